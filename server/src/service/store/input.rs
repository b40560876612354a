//! Validated input: parsed once at the boundary, so the service code below never sees a
//! blank title or an unbounded text ("parse, don't validate").

use crate::error::{AppError, AppResult};

/// Trimmed text of 1..=max characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(String);

impl Text {
    pub fn parse(field: &str, value: &str, max: usize) -> AppResult<Text> {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(AppError::BadUserInput(format!("{field}不能为空")));
        }
        if trimmed.chars().count() > max {
            return Err(AppError::BadUserInput(format!("{field}不能超过{max}个字")));
        }
        // Text that arrives other than through GraphQL's own strings (an upload's file name)
        // meets the same rule as the boundary's: no control characters but line breaks/tabs.
        if trimmed
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(AppError::BadUserInput(format!(
                "{field}含有不允许的控制字符"
            )));
        }
        Ok(Text(trimmed.to_string()))
    }

    pub fn optional(field: &str, value: Option<&str>, max: usize) -> AppResult<Option<Text>> {
        match value.map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => Text::parse(field, v, max).map(Some),
        }
    }

    pub fn into_inner(self) -> String {
        self.0
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub const TITLE_MAX: usize = 200;
pub const REASON_MAX: usize = 2_000;
pub const BODY_MAX: usize = 20_000;

/// A reason is required wherever someone says no or stops the clock.
pub fn reason(value: &str) -> AppResult<Text> {
    Text::parse("理由", value, REASON_MAX)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(value: &str) -> AppResult<Email> {
        let v = value.trim();
        let valid = v.len() <= 254
            && v.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            })
            && !v.contains(char::is_whitespace);
        if valid {
            Ok(Email(v.to_string()))
        } else {
            Err(AppError::BadUserInput(format!("邮箱地址格式不正确：{v}")))
        }
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Refuses instants no supervision record can have (and at which date arithmetic or the
/// database's timestamp type would overflow): before 2000 or from 2100 on.
pub fn sane_instant(
    at: chrono::DateTime<chrono::Utc>,
    field: &str,
) -> AppResult<chrono::DateTime<chrono::Utc>> {
    use chrono::Datelike;
    if (2000..2100).contains(&at.year()) {
        Ok(at)
    } else {
        Err(AppError::BadUserInput(format!(
            "{field}应在2000年至2099年之间"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(
            Text::parse("标题", "  督办  ", 10).expect("ok").as_str(),
            "督办"
        );
        assert!(Text::parse("标题", "   ", 10).is_err());
        assert!(Text::parse("标题", &"字".repeat(11), 10).is_err());
        assert!(Text::optional("备注", Some(" "), 10).expect("ok").is_none());
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(Email::parse("duchashi@zhifu.gov.cn").is_ok());
        for bad in ["", "a@b", "@x.cn", "a b@x.cn", "a@.cn"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
