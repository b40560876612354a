//! Sign-in limits that hold when tries come in parallel and from behind a reverse proxy, and
//! a session cookie that is `Secure` when the site is served over https.

use futures_util::future::join_all;
use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;

use crate::district::District;
use crate::helpers::{TestApp, settings_for, spawn_app, spawn_with};
use crate::web::{PASSWORD, give_password};

/// One sign-in with `password`, from the address `forwarded` names (when set).
async fn try_password(
    app: &TestApp,
    account: &str,
    password: &str,
    forwarded: Option<&str>,
) -> StatusCode {
    let client = crate::helpers::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut request = client.post(app.url("/login")).form(&[
        ("account", account),
        ("password", password),
        ("next", "/"),
    ]);
    if let Some(forwarded) = forwarded {
        request = request.header("x-forwarded-for", forwarded);
    }
    request.send().await.expect("sent").status()
}

fn checked_and_wrong(statuses: &[StatusCode]) -> usize {
    statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count()
}

#[tokio::test]
async fn parallel_wrong_passwords_are_checked_no_more_than_the_limits_allow() {
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let account = give_password(&app, &d.housing_head).await;

    // Forty at once against one account: the account's five tries are counted before any
    // hash is checked, so at most five are answered "wrong" and the rest are refused.
    let statuses = join_all((0..40).map(|_| try_password(&app, &account, "wrong-1", None))).await;
    let wrong = checked_and_wrong(&statuses);
    assert!(wrong <= 5, "{wrong} wrong passwords checked: {statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert_eq!(
        try_password(&app, &account, PASSWORD, None).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the account is paused, even for its password"
    );

    // Forty at once from one address (of a fresh instance: the tries above were this
    // address's too) against accounts that do not exist: the address's thirty tries are
    // counted before hashing.
    let app = spawn_app().await;
    let accounts: Vec<String> = (0..40).map(|n| format!("nobody-{n}")).collect();
    let statuses = join_all(accounts.iter().map(|a| try_password(&app, a, "x", None))).await;
    let wrong = checked_and_wrong(&statuses);
    assert!(wrong <= 30, "{wrong} tries checked from one address");
    assert!(
        wrong >= 25,
        "only {wrong} of the address's tries were checked"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_limit() {
    let mut settings = settings_for(crate::helpers::Backend::Sqlite).await;
    settings.http.trusted_proxies =
        ducha_server::proxies::TrustedProxies::parse("127.0.0.1, ::1").expect("proxies");
    let app = spawn_with(settings).await;
    for _ in 0..30 {
        let status = try_password(&app, "nobody", "x", Some("203.0.113.7")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        try_password(&app, "nobody", "x", Some("203.0.113.7")).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the client behind the proxy has had its tries"
    );
    assert_eq!(
        try_password(&app, "nobody", "x", Some("198.51.100.2, 203.0.113.7")).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the nearest untrusted hop is the client; what it claims before it is not believed"
    );
    assert_eq!(
        try_password(&app, "nobody", "x", Some("203.0.113.8")).await,
        StatusCode::UNAUTHORIZED,
        "another client behind the same proxy is still let in to try"
    );

    // Without trusted proxies the header is anyone's to write, and is not believed.
    let app = spawn_app().await;
    for n in 0..30 {
        try_password(&app, "nobody", "x", Some(&format!("203.0.113.{n}"))).await;
    }
    assert_eq!(
        try_password(&app, "nobody", "x", Some("198.51.100.99")).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_the_site_is_https() {
    for (public_url, secure) in [
        ("https://ducha.example.gov.cn", true),
        ("http://127.0.0.1", false),
    ] {
        let mut settings = settings_for(crate::helpers::Backend::Sqlite).await;
        settings.public_url = public_url.to_string();
        let app = spawn_with(settings).await;
        let d = District::create(&app).await;
        let account = give_password(&app, &d.housing_head).await;
        let client = crate::helpers::http_builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let signed = client
            .post(app.url("/login"))
            .form(&[
                ("account", account.as_str()),
                ("password", PASSWORD),
                ("next", "/"),
            ])
            .send()
            .await
            .expect("sent");
        assert_eq!(signed.status(), StatusCode::SEE_OTHER);
        let cookie = signed.headers()[SET_COOKIE].to_str().expect("ascii");
        assert_eq!(
            cookie.contains("; Secure"),
            secure,
            "{public_url}: {cookie}"
        );
    }
}

/// Tries counted by sign-ins that never finished (their clients hung up while the password
/// hashed) pause the account for the usual 15 minutes; they never lock it for good.
#[tokio::test]
async fn tries_that_never_finished_pause_the_account_and_do_not_lock_it() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let d = District::create(&app).await;
    let account = give_password(&app, &d.housing_head).await;
    app.state
        .db
        .execute_unprepared(&format!(
            "UPDATE person SET sign_in_failures = 5 WHERE account = '{account}'"
        ))
        .await
        .expect("five tries counted, none recorded");
    assert_eq!(
        try_password(&app, &account, PASSWORD, None).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    app.clock.advance(chrono::Duration::minutes(16));
    assert_eq!(
        try_password(&app, &account, PASSWORD, None).await,
        StatusCode::SEE_OTHER,
        "the pause ends like any other"
    );
}
