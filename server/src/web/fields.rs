//! What every form page needs beyond the frame: a refused form shown again with every typed
//! word kept and the reason beside the field it is about, and the choices people pick from
//! (source kinds, urgencies, leaders, units grouped by kind).

use maud::{Markup, html};
use serde_json::Value;

use super::view::{self, text};
use super::viewer::{Failure, Form};

/// A refusal, placed: beside the field it names, or above the form when it names none.
#[derive(Debug, Default)]
pub struct Refusal {
    pub field: Option<&'static str>,
    pub message: String,
}

impl Refusal {
    /// Places the service's message by the field it begins with (the service words every
    /// refusal after the field it is about: "标题不能为空", "事项期限……").
    pub fn placed(failure: &Failure, fields: &[(&'static str, &[&str])]) -> Refusal {
        let field = fields
            .iter()
            .find(|(_, words)| words.iter().any(|w| failure.message.contains(w)))
            .map(|(name, _)| *name);
        Refusal {
            field,
            message: failure.message.clone(),
        }
    }

    pub fn general(message: impl Into<String>) -> Refusal {
        Refusal {
            field: None,
            message: message.into(),
        }
    }

    /// The message for `field`, if it is about it.
    pub fn at(refusal: Option<&Refusal>, field: &str) -> Markup {
        match refusal {
            Some(r) if r.field == Some(field) => html! {
                p.field-error id={ (field) "-error" } role="alert" { (r.message) }
            },
            _ => html! {},
        }
    }

    /// The message above the form when it names no field.
    pub fn above(refusal: Option<&Refusal>) -> Markup {
        match refusal {
            Some(r) if r.field.is_none() => view::notice(None, Some(&r.message)),
            Some(_) => view::notice(None, Some("表单有误，请按提示修改后重新提交。")),
            None => html! {},
        }
    }
}

/// A `<select>`'s options, the one `chosen` selected.
pub fn options(choices: &[(String, String)], chosen: &str) -> Markup {
    html! {
        @for (value, label) in choices {
            option value=(value) selected[value == chosen] { (label) }
        }
    }
}

pub fn urgencies() -> Vec<(String, String)> {
    [("NORMAL", "一般"), ("URGENT", "急"), ("CRITICAL", "特急")]
        .into_iter()
        .map(|(v, l)| (v.to_string(), l.to_string()))
        .collect()
}

pub fn urgency_label(code: &str) -> &'static str {
    match code {
        "CRITICAL" => "特急",
        "URGENT" => "急",
        _ => "一般",
    }
}

/// Source kinds with their default rule, as the office reads them in the list.
pub fn source_kinds() -> Vec<(String, String)> {
    ducha_domain::SourceKind::ALL
        .into_iter()
        .map(|k| {
            (
                k.as_str().to_string(),
                format!("{}（默认{}）", k.label(), k.default_deadline()),
            )
        })
        .collect()
}

/// The units of a `units` answer grouped by kind (部门, 街道…), in the directory's order.
pub fn units_by_kind(units: &Value) -> Vec<(&'static str, Vec<&Value>)> {
    let all: Vec<&Value> = units.as_array().into_iter().flatten().collect();
    view::UNIT_KINDS
        .iter()
        .map(|kind| {
            (
                view::unit_kind_label(kind),
                all.iter()
                    .copied()
                    .filter(|u| text(&u["kind"]) == *kind)
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, units)| !units.is_empty())
        .collect()
}

/// A field's value, trimmed; `None` when blank.
pub fn filled<'a>(form: &'a Form, name: &str) -> Option<&'a str> {
    Some(form.get(name).trim()).filter(|v| !v.is_empty())
}
