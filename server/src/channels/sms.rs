//! SMS: through 阿里云短信服务's SendSms (RPC, signed with the access key's secret) or through
//! an office's own 短信平台 behind an HTTP gateway (a URL, a body template, a mark of success).

use std::time::Duration;

use entity::channel;

use super::answer::{Attempt, Refusal, by_status, excerpt, retry_after, setting, transport_error};
use super::kinds::ChannelKind;
use super::sign;

pub async fn send(attempt: &Attempt<'_>, platform: &channel::Model) -> Result<(), Refusal> {
    let phone = attempt.channel.address.trim();
    match ChannelKind::parse(&platform.kind) {
        Some(ChannelKind::SmsAliyun) => aliyun(attempt, platform, phone).await,
        Some(ChannelKind::SmsGateway) => gateway(attempt, platform, phone).await,
        _ => Err(Refusal::Permanent("短信平台类型无效".into())),
    }
}

/// 阿里云's answer: `{"Code": "OK", "Message": "OK", "BizId": …, "RequestId": …}`.
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AliyunAnswer {
    code: String,
    #[serde(default)]
    message: String,
}

async fn aliyun(
    attempt: &Attempt<'_>,
    platform: &channel::Model,
    phone: &str,
) -> Result<(), Refusal> {
    let missing = |what: &str| Refusal::Permanent(format!("阿里云短信未设置{what}"));
    let secret = platform
        .secret
        .as_deref()
        .ok_or_else(|| missing("AccessKey Secret"))?;
    let key_id = setting(platform, "accessKeyId").ok_or_else(|| missing("AccessKey ID"))?;
    let sign_name = setting(platform, "signName").ok_or_else(|| missing("短信签名"))?;
    let template = setting(platform, "templateCode").ok_or_else(|| missing("模板编号"))?;
    let variable = setting(platform, "templateParam").unwrap_or("content");
    let template_param = serde_json::json!({ variable: attempt.row.body_text }).to_string();
    let nonce = crate::auth::new_token()
        .map_err(|e| Refusal::Transient(format!("无法生成随机数：{e:?}")))?;
    let mut params: Vec<(String, String)> = [
        ("AccessKeyId", key_id),
        ("Action", "SendSms"),
        ("Format", "JSON"),
        ("PhoneNumbers", phone),
        ("RegionId", "cn-hangzhou"),
        ("SignName", sign_name),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", &nonce[4..36]),
        ("SignatureVersion", "1.0"),
        ("TemplateCode", template),
        ("TemplateParam", template_param.as_str()),
        ("Version", "2017-05-25"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    params.push((
        "Timestamp".into(),
        attempt.now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    ));
    params.push(("OutId".into(), attempt.row.id.to_string()));
    let signature = sign::aliyun_signature("POST", &params, secret);
    params.push(("Signature".into(), signature));
    let body = params
        .iter()
        .map(|(k, v)| format!("{}={}", sign::percent_encode(k), sign::percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let endpoint = Some(platform.address.trim())
        .filter(|a| !a.is_empty())
        .unwrap_or("https://dysmsapi.aliyuncs.com/");
    let response = attempt
        .http
        .post(endpoint)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|e| transport_error("阿里云短信", &e))?;
    let status = response.status();
    let wait = retry_after(response.headers());
    let text = response
        .text()
        .await
        .map_err(|e| transport_error("阿里云短信", &e))?;
    // Refusals come with a JSON answer and a 4xx; read the code first.
    let Ok(answer) = serde_json::from_str::<AliyunAnswer>(&text) else {
        return Err(if status.is_success() {
            Refusal::Transient(format!("阿里云短信的应答无法识别：{}", excerpt(&text)))
        } else {
            by_status("阿里云短信", status, &text, wait)
        });
    };
    let said = format!(
        "阿里云短信应答 {}：{}",
        answer.code,
        excerpt(&answer.message)
    );
    match answer.code.as_str() {
        "OK" => Ok(()),
        "isv.BUSINESS_LIMIT_CONTROL" | "Throttling" | "Throttling.User" | "Throttling.Api" => {
            Err(Refusal::Wait(wait.unwrap_or(Duration::from_secs(60)), said))
        }
        code if code.starts_with("isp.")
            || matches!(code, "ServiceUnavailable" | "InternalError")
            || status.is_server_error() =>
        {
            Err(Refusal::Transient(said))
        }
        _ => Err(Refusal::Permanent(said)),
    }
}

/// Fills `{phone}` and `{text}` into the gateway's body template, escaped for its type.
pub fn fill_template(template: &str, json: bool, phone: &str, text: &str) -> String {
    let escape = |value: &str| {
        if json {
            let quoted = serde_json::Value::from(value).to_string();
            quoted[1..quoted.len() - 1].to_string()
        } else {
            sign::percent_encode(value)
        }
    };
    template
        .replace("{phone}", &escape(phone))
        .replace("{text}", &escape(text))
}

async fn gateway(
    attempt: &Attempt<'_>,
    platform: &channel::Model,
    phone: &str,
) -> Result<(), Refusal> {
    let json = setting(platform, "contentType") != Some("form");
    let template =
        setting(platform, "bodyTemplate").unwrap_or(r#"{"mobile":"{phone}","content":"{text}"}"#);
    let body = fill_template(template, json, phone, &attempt.row.body_text);
    let url = reqwest::Url::parse(platform.address.trim())
        .map_err(|e| Refusal::Permanent(format!("短信网关地址无效：{e}")))?;
    let mut request = attempt.http.post(url).header(
        "content-type",
        if json {
            "application/json"
        } else {
            "application/x-www-form-urlencoded"
        },
    );
    if let (Some(header), Some(value)) =
        (setting(platform, "authHeader"), platform.secret.as_deref())
    {
        request = request.header(header, value);
    }
    let response = request
        .body(body)
        .send()
        .await
        .map_err(|e| transport_error("短信网关", &e))?;
    let status = response.status();
    let wait = retry_after(response.headers());
    let text = response
        .text()
        .await
        .map_err(|e| transport_error("短信网关", &e))?;
    if !status.is_success() {
        return Err(by_status("短信网关", status, &text, wait));
    }
    // Spaces do not count: `"code":0` is found in `{"code": 0}`.
    let squeezed = |t: &str| t.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    match setting(platform, "successMarker") {
        Some(marker) if !squeezed(&text).contains(&squeezed(marker)) => {
            Err(Refusal::Permanent(format!(
                "短信网关未确认接收（应答中没有“{marker}”）：{}",
                excerpt(&text)
            )))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gateway_body_escapes_what_it_fills_in() {
        let json = fill_template(
            r#"{"mobile":"{phone}","content":"{text}"}"#,
            true,
            "13800000000",
            "督办\"事项\"\n请办理",
        );
        let parsed: serde_json::Value = serde_json::from_str(&json).expect("still JSON");
        assert_eq!(parsed["content"], "督办\"事项\"\n请办理");
        let form = fill_template("to={phone}&msg={text}", false, "13800000000", "a&b=c");
        assert_eq!(form, "to=13800000000&msg=a%26b%3Dc");
    }
}
