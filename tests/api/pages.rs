//! Sign-in for the pages: users created by the admin, argon2 passwords, session cookies,
//! CSRF tokens on every form, and the language switch.

use actix_web::cookie::Cookie;
use actix_web::test::TestRequest;
use serde_json::json;

use crate::helpers::{spawn, CODES};

/// The value of cookie `name` among a response's Set-Cookie headers, with its attributes.
fn set_cookie(res: &crate::helpers::Resp, name: &str) -> Option<(String, String)> {
    res.headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| {
            let value = v[name.len() + 1..].split(';').next().unwrap().to_string();
            (value, v.to_string())
        })
}

/// The hidden CSRF field of the first form on a page.
fn csrf_field(html: &str) -> String {
    let start = html
        .find("name=\"csrf_token\" value=\"")
        .expect("a CSRF field")
        + 25;
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

#[actix_web::test]
async fn admin_creates_users_and_people_sign_in_and_out() {
    let t = spawn().await;
    let (org, token) = t.org("producer", CODES[0], "430702").await;
    let path = format!("/api/v1/organizations/{org}/users");
    t.post(&path, Some(&token), &json!({"username": "qc.lead"}))
        .await
        .error(403, "forbidden");
    t.post(&path, Some(&t.admin), &json!({"username": "a"}))
        .await
        .error(422, "invalid_username");
    let created = t
        .post(&path, Some(&t.admin), &json!({"username": "qc.lead"}))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let password = created.json()["password"].as_str().unwrap().to_string();
    assert!(password.len() >= 16);
    t.post(&path, Some(&t.admin), &json!({"username": "qc.lead"}))
        .await
        .error(409, "username_taken");

    // Not signed in: the console sends people to the sign-in page.
    let res = t.get("/console", None).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.header("location"), "/login");

    // The sign-in page: Chinese first, English on request, a CSRF token bound to a cookie.
    let res = t.get("/login", None).await;
    assert_eq!(res.status, 200);
    let html = res.text();
    assert!(html.contains("<html lang=\"zh-CN\">") && html.contains("登录"));
    assert!(html.contains("<label for=\"username\">") && html.contains("<label for=\"password\">"));
    let form_token = csrf_field(&html);
    let (cookie_token, attrs) = set_cookie(&res, "certrail_login_csrf").expect("csrf cookie");
    assert_eq!(form_token, cookie_token);
    assert!(
        attrs.contains("HttpOnly") && attrs.contains("SameSite=Lax"),
        "{attrs}"
    );
    let english = t.get("/login?lang=en", None).await;
    assert!(english.text().contains("<html lang=\"en\">") && english.text().contains("Sign in"));

    let login = |password: &str, csrf: &str| {
        TestRequest::post()
            .uri("/login")
            .cookie(Cookie::new("certrail_login_csrf", cookie_token.clone()))
            .set_form([
                ("csrf_token", csrf),
                ("username", "qc.lead"),
                ("password", password),
            ])
    };
    // A form without the matching token is refused before the password is looked at.
    let res = t.send(login(&password, "forged")).await;
    assert_eq!(res.status, 403);
    let res = t.send(login("wrong password", &form_token)).await;
    assert_eq!(res.status, 401);
    assert!(res.text().contains("用户名或密码错误"));
    assert!(set_cookie(&res, "certrail_session").is_none());

    let res = t.send(login(&password, &form_token)).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(res.header("location"), "/console");
    let (session, attrs) = set_cookie(&res, "certrail_session").expect("session cookie");
    assert!(
        attrs.contains("HttpOnly") && attrs.contains("SameSite=Lax"),
        "{attrs}"
    );
    assert!(!attrs.contains("Secure"), "plain HTTP in tests: {attrs}");

    let console = |session: &str| {
        TestRequest::get()
            .uri("/console")
            .cookie(Cookie::new("certrail_session", session.to_string()))
    };
    let res = t.send(console(&session)).await;
    assert_eq!(res.status, 200);
    let html = res.text();
    assert!(html.contains(&format!("producer 常德 {}", CODES[0])));
    assert!(html.contains("qc.lead") && html.contains(CODES[0]));
    let csrf = csrf_field(&html);

    // Signing out needs the session's CSRF token; afterwards the cookie opens nothing.
    let logout = |csrf: &str| {
        TestRequest::post()
            .uri("/logout")
            .cookie(Cookie::new("certrail_session", session.clone()))
            .set_form([("csrf_token", csrf)])
    };
    assert_eq!(t.send(logout("forged")).await.status, 403);
    assert_eq!(t.send(console(&session)).await.status, 200);
    let res = t.send(logout(&csrf)).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.header("location"), "/login");
    let res = t.send(console(&session)).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.header("location"), "/login");
}

#[actix_web::test]
async fn the_stylesheet_is_served_from_the_binary() {
    let t = spawn().await;
    let res = t.get("/assets/app.css", None).await;
    assert_eq!(res.status, 200);
    assert!(res.header("content-type").starts_with("text/css"));
    assert!(!res.text().contains("http"), "no external resources");
}
