//! Local HTTP servers that speak the providers' documented requests and answers: 企业微信's
//! group robot (`/cgi-bin/webhook/send?key=…`), 钉钉's signed robot (`/robot/send?
//! access_token=…&timestamp=…&sign=…`), a Standard Webhooks receiver (`/hooks`), 阿里云's
//! SendSms (`/aliyun`) and a plain SMS gateway (`/sms`). Each checks what it receives — the
//! signatures with an HMAC computed here, independently of ducha's — records it, and answers
//! as the test scripted: accepted, too many, refused, or down.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{EndpointExt, Response, Route, handler, post};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// HMAC-SHA256 (RFC 2104) over sha2, written here so that the check does not reuse the code
/// it checks.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

/// One request as a provider received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub provider: &'static str,
    pub query: HashMap<String, String>,
    pub headers: HashMap<String, String>,
    pub body: String,
    /// Whether its signature checked out (true where the provider signs nothing).
    pub signed: bool,
    /// When it arrived.
    pub at: std::time::Instant,
}

/// How a provider answers a key (a robot's key, a webhook's path, a phone number): by
/// default it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    Accept,
    TooMany,
    Refuse,
    Down,
    /// Answers after five seconds (longer than the tests' channel timeout).
    Slow,
}

#[derive(Default)]
pub struct Providers {
    pub received: Mutex<Vec<Received>>,
    scripts: Mutex<HashMap<String, Script>>,
    /// The secrets the signed providers check with, by key.
    secrets: Mutex<HashMap<String, String>>,
}

impl Providers {
    pub fn script(&self, key: &str, script: Script) {
        self.scripts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_string(), script);
    }

    pub fn secret(&self, key: &str, secret: &str) {
        self.secrets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_string(), secret.to_string());
    }

    fn scripted(&self, key: &str) -> Script {
        self.scripts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .copied()
            .unwrap_or(Script::Accept)
    }

    fn secret_of(&self, key: &str) -> Option<String> {
        self.secrets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    fn record(&self, received: Received) {
        self.received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(received);
    }

    pub fn of(&self, provider: &str) -> Vec<Received> {
        self.received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|r| r.provider == provider)
            .cloned()
            .collect()
    }
}

/// Starts the providers on a free loopback port; returns their base URL.
pub async fn start() -> (String, Arc<Providers>) {
    let providers = Arc::new(Providers::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind providers");
    let address = listener.local_addr().expect("address");
    let app = Route::new()
        .at("/cgi-bin/webhook/send", post(wecom))
        .at("/robot/send", post(dingtalk))
        .at("/hooks/:name", post(hook))
        .at("/aliyun", post(aliyun))
        .at("/sms", post(gateway))
        .data(Arc::clone(&providers));
    let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).expect("acceptor");
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
    (format!("http://{address}"), providers)
}

fn headers_of(request: &poem::Request) -> HashMap<String, String> {
    request
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect()
}

fn json_answer(status: StatusCode, body: Value) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(body.to_string())
}

/// 企业微信: `{"errcode":0,"errmsg":"ok"}`; 45009 when over its rate; 93000 for a bad key.
#[handler]
async fn wecom(
    request: &poem::Request,
    Query(query): Query<HashMap<String, String>>,
    Data(providers): Data<&Arc<Providers>>,
    body: String,
) -> Response {
    let key = query.get("key").cloned().unwrap_or_default();
    let valid = serde_json::from_str::<Value>(&body)
        .ok()
        .is_some_and(|b| b["msgtype"] == "markdown" && b["markdown"]["content"].is_string());
    providers.record(Received {
        provider: "wecom",
        query: query.clone(),
        headers: headers_of(request),
        body,
        signed: valid,
        at: std::time::Instant::now(),
    });
    match providers.scripted(&key) {
        Script::Accept => json_answer(StatusCode::OK, json!({ "errcode": 0, "errmsg": "ok" })),
        Script::TooMany => json_answer(
            StatusCode::OK,
            json!({ "errcode": 45009, "errmsg": "api freq out of limit" }),
        ),
        Script::Refuse => json_answer(
            StatusCode::OK,
            json!({ "errcode": 93000, "errmsg": "invalid webhook url" }),
        ),
        Script::Down | Script::Slow => Response::builder()
            .status(StatusCode::BAD_GATEWAY)
            .body("bad gateway"),
    }
}

/// 钉钉: checks `sign` = Base64(HMAC-SHA256(secret, "{timestamp}\n{secret}")) for the access
/// token's secret; a wrong one answers 310000, as 钉钉 does.
#[handler]
async fn dingtalk(
    request: &poem::Request,
    Query(query): Query<HashMap<String, String>>,
    Data(providers): Data<&Arc<Providers>>,
    body: String,
) -> Response {
    let token = query.get("access_token").cloned().unwrap_or_default();
    let signed = match (
        providers.secret_of(&token),
        query.get("timestamp"),
        query.get("sign"),
    ) {
        (Some(secret), Some(timestamp), Some(sign)) => {
            let expected = STANDARD.encode(hmac_sha256(
                secret.as_bytes(),
                format!("{timestamp}\n{secret}").as_bytes(),
            ));
            *sign == expected
        }
        _ => false,
    };
    providers.record(Received {
        provider: "dingtalk",
        query: query.clone(),
        headers: headers_of(request),
        body,
        signed,
        at: std::time::Instant::now(),
    });
    if !signed {
        return json_answer(
            StatusCode::OK,
            json!({ "errcode": 310_000, "errmsg": "sign not match" }),
        );
    }
    match providers.scripted(&token) {
        Script::Accept => json_answer(StatusCode::OK, json!({ "errcode": 0, "errmsg": "ok" })),
        Script::TooMany => json_answer(
            StatusCode::OK,
            json!({ "errcode": 130_101, "errmsg": "send too fast, exceed 20 times per minute" }),
        ),
        Script::Refuse => json_answer(
            StatusCode::OK,
            json!({ "errcode": 300_001, "errmsg": "token is not exist" }),
        ),
        Script::Down | Script::Slow => Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .body("down"),
    }
}

/// A Standard Webhooks receiver: verifies `webhook-signature` against "{id}.{timestamp}.{body}"
/// with the key the endpoint's secret decodes to; answers 401 when it does not match.
#[handler]
async fn hook(
    request: &poem::Request,
    poem::web::Path(name): poem::web::Path<String>,
    Data(providers): Data<&Arc<Providers>>,
    body: String,
) -> Response {
    let headers = headers_of(request);
    let signed = match (
        providers.secret_of(&name),
        headers.get("webhook-id"),
        headers.get("webhook-timestamp"),
        headers.get("webhook-signature"),
    ) {
        (Some(secret), Some(id), Some(timestamp), Some(signature)) => {
            let key = STANDARD
                .decode(secret.trim_start_matches("whsec_"))
                .unwrap_or_default();
            let expected = format!(
                "v1,{}",
                STANDARD.encode(hmac_sha256(
                    &key,
                    format!("{id}.{timestamp}.{body}").as_bytes()
                ))
            );
            signature.split(' ').any(|s| s == expected)
        }
        _ => false,
    };
    providers.record(Received {
        provider: "webhook",
        query: HashMap::new(),
        headers,
        body,
        signed,
        at: std::time::Instant::now(),
    });
    if !signed {
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .body("bad signature");
    }
    match providers.scripted(&name) {
        Script::Slow => {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            Response::builder().status(StatusCode::NO_CONTENT).finish()
        }
        Script::Accept => Response::builder().status(StatusCode::NO_CONTENT).finish(),
        Script::TooMany => Response::builder()
            .status(StatusCode::TOO_MANY_REQUESTS)
            .header("retry-after", "120")
            .finish(),
        Script::Refuse => Response::builder().status(StatusCode::GONE).body("gone"),
        Script::Down => Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .body("oops"),
    }
}

/// 阿里云 SendSms (RPC, form body): recomputes the signature over the parameters it received.
#[handler]
async fn aliyun(
    request: &poem::Request,
    Data(providers): Data<&Arc<Providers>>,
    body: String,
) -> Response {
    let params: Vec<(String, String)> = reqwest::Url::parse(&format!("http://form/?{body}"))
        .map(|url| {
            url.query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let secret = providers.secret_of(&get("AccessKeyId")).unwrap_or_default();
    let signed = ducha_server::channels::aliyun_signature("POST", &params, &secret)
        == get("Signature")
        && get("Action") == "SendSms"
        && get("SignatureMethod") == "HMAC-SHA1";
    let phone = get("PhoneNumbers");
    providers.record(Received {
        provider: "aliyun",
        query: params.iter().cloned().collect(),
        headers: headers_of(request),
        body,
        signed,
        at: std::time::Instant::now(),
    });
    if !signed {
        return json_answer(
            StatusCode::BAD_REQUEST,
            json!({ "Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched with our calculation." }),
        );
    }
    match providers.scripted(&phone) {
        Script::Accept => json_answer(
            StatusCode::OK,
            json!({ "Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990" }),
        ),
        Script::TooMany => json_answer(
            StatusCode::OK,
            json!({ "Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控Permits:1" }),
        ),
        Script::Refuse => json_answer(
            StatusCode::OK,
            json!({ "Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号" }),
        ),
        Script::Down | Script::Slow => Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .body("down"),
    }
}

/// An office's own SMS gateway: JSON in, `{"code":0}` out.
#[handler]
async fn gateway(
    request: &poem::Request,
    Data(providers): Data<&Arc<Providers>>,
    body: String,
) -> Response {
    let parsed: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let phone = parsed["mobile"].as_str().unwrap_or_default().to_string();
    let headers = headers_of(request);
    let signed = headers.get("authorization").map(String::as_str) == Some("Bearer gw-token");
    providers.record(Received {
        provider: "gateway",
        query: HashMap::new(),
        headers,
        body,
        signed,
        at: std::time::Instant::now(),
    });
    match providers.scripted(&phone) {
        Script::Accept => json_answer(StatusCode::OK, json!({ "code": 0, "msg": "success" })),
        Script::TooMany => Response::builder()
            .status(StatusCode::TOO_MANY_REQUESTS)
            .finish(),
        Script::Refuse => json_answer(StatusCode::OK, json!({ "code": 4001, "msg": "号码无效" })),
        Script::Down | Script::Slow => Response::builder()
            .status(StatusCode::BAD_GATEWAY)
            .body("down"),
    }
}
