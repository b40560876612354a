//! The signatures providers check, each as its documentation defines it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return Vec::new(),
    };
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// 钉钉 加签: Base64(HMAC-SHA256(secret, "{timestamp}\n{secret}")), the timestamp in
/// milliseconds; the caller URL-encodes it into the query.
pub fn dingtalk_sign(timestamp_ms: i64, secret: &str) -> String {
    let to_sign = format!("{timestamp_ms}\n{secret}");
    STANDARD.encode(hmac_sha256(secret.as_bytes(), to_sign.as_bytes()))
}

/// Standard Webhooks: `v1,` + Base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), where the
/// key is the secret after `whsec_`, Base64-decoded (a secret without the prefix is used as
/// its bytes).
pub fn standard_webhook_signature(secret: &str, id: &str, timestamp: i64, body: &str) -> String {
    let key = secret
        .strip_prefix("whsec_")
        .and_then(|b64| STANDARD.decode(b64).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec());
    let signed = format!("{id}.{timestamp}.{body}");
    format!(
        "v1,{}",
        STANDARD.encode(hmac_sha256(&key, signed.as_bytes()))
    )
}

/// RFC 3986 percent-encoding as 阿里云's RPC signature wants it: only `A–Z a–z 0–9 - _ . ~`
/// stay as they are; a space is `%20`.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// 阿里云 RPC signature (SignatureVersion 1.0, HMAC-SHA1): the parameters sorted by name and
/// percent-encoded into the canonical query, signed as
/// `{method}&%2F&{percent_encode(query)}` with the key `{secret}&`.
pub fn aliyun_signature(method: &str, params: &[(String, String)], secret: &str) -> String {
    let mut sorted: Vec<&(String, String)> =
        params.iter().filter(|(k, _)| k != "Signature").collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let query = sorted
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let to_sign = format!(
        "{method}&{}&{}",
        percent_encode("/"),
        percent_encode(&query)
    );
    let mut mac = match Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(to_sign.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 阿里云短信服务's own worked example of a SendSms signature.
    #[test]
    fn the_aliyun_signature_matches_the_documented_example() {
        let params: Vec<(String, String)> = [
            ("AccessKeyId", "testId"),
            ("Action", "SendSms"),
            ("Format", "XML"),
            ("OutId", "123"),
            ("PhoneNumbers", "15300000001"),
            ("RegionId", "cn-hangzhou"),
            ("SignName", "阿里云短信测试专用"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", "SMS_71390007"),
            ("TemplateParam", "{\"customer\":\"test\"}"),
            ("Timestamp", "2017-07-12T02:42:19Z"),
            ("Version", "2017-05-25"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            aliyun_signature("GET", &params, "testSecret"),
            "zJDF+Lrzhj/ThnlvIToysFRq6t4="
        );
        assert_ne!(
            aliyun_signature("POST", &params, "testSecret"),
            "zJDF+Lrzhj/ThnlvIToysFRq6t4="
        );
    }

    #[test]
    fn percent_encoding_keeps_only_the_unreserved() {
        assert_eq!(percent_encode("a b*~-_."), "a%20b%2A~-_.");
        assert_eq!(percent_encode("督"), "%E7%9D%A3");
    }

    /// The specification's published test vector.
    #[test]
    fn the_standard_webhook_signature_matches_the_published_vector() {
        assert_eq!(
            standard_webhook_signature(
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                r#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_standard_webhook_signature_depends_on_id_time_body_and_key() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let a = standard_webhook_signature(secret, "msg_1", 1_674_087_231, "{}");
        assert!(a.starts_with("v1,"), "{a}");
        assert_eq!(
            a,
            standard_webhook_signature(secret, "msg_1", 1_674_087_231, "{}")
        );
        assert_ne!(
            a,
            standard_webhook_signature(secret, "msg_2", 1_674_087_231, "{}")
        );
        assert_ne!(
            a,
            standard_webhook_signature(secret, "msg_1", 1_674_087_232, "{}")
        );
        assert_ne!(
            a,
            standard_webhook_signature(secret, "msg_1", 1_674_087_231, "{ }")
        );
        assert_ne!(
            a,
            standard_webhook_signature("whsec_AAAA", "msg_1", 1_674_087_231, "{}")
        );
    }

    #[test]
    fn the_dingtalk_sign_is_base64_of_thirty_two_bytes() {
        let sign = dingtalk_sign(1_700_000_000_000, "SECabc");
        assert_eq!(STANDARD.decode(&sign).map(|b| b.len()), Ok(32));
        assert_ne!(sign, dingtalk_sign(1_700_000_000_001, "SECabc"));
    }
}
