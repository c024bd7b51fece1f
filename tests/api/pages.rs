//! Sign-in for the pages: users created by the admin, argon2 passwords, session cookies,
//! CSRF tokens on every form, and the language switch.

use actix_web::cookie::Cookie;
use actix_web::test::TestRequest;
use serde_json::json;

use crate::console::{log_in, new_user};
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
    // Signed double-submit: the cookie is the field's nonce, its issue time and a MAC.
    let parts: Vec<&str> = cookie_token.split('.').collect();
    assert_eq!(parts.len(), 3, "nonce.time.mac: {cookie_token}");
    assert_eq!(form_token, parts[0]);
    assert!(parts[1].parse::<i64>().unwrap() > 1_700_000_000);
    assert_eq!(parts[2].len(), 43, "HMAC-SHA256, base64url");
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
    // A cookie the attacker planted, with a field to match, is refused: unsigned, signed by
    // someone else, or signed for another form (the report form's cookie).
    let planted = |cookie: &str, field: &str| {
        TestRequest::post()
            .uri("/login")
            .cookie(Cookie::new("certrail_login_csrf", cookie.to_string()))
            .set_form([
                ("csrf_token", field),
                ("username", "qc.lead"),
                ("password", password.as_str()),
            ])
    };
    let forged_mac = format!("{form_token}.{}.{}", parts[1], "A".repeat(43));
    // The right MAC over another issue time (an old token made to look new) fails too.
    let moved_time = format!(
        "{form_token}.{}.{}",
        parts[1].parse::<i64>().unwrap() + 1,
        parts[2]
    );
    let other_form = {
        let (producer, product) = t.producer_with_product(CODES[1]).await;
        let issued = t.issue(&producer, &crate::helpers::batch(&product)).await;
        let label = t
            .get(
                &crate::helpers::path_of(issued["verify_url"].as_str().unwrap()),
                None,
            )
            .await;
        set_cookie(&label, "certrail_form_csrf")
            .expect("form cookie")
            .0
    };
    let other_nonce = other_form.split_once('.').unwrap().0.to_string();
    for (cookie, field) in [
        ("attacker", "attacker"),
        (forged_mac.as_str(), form_token.as_str()),
        (moved_time.as_str(), form_token.as_str()),
        (other_form.as_str(), other_nonce.as_str()),
        ("", ""),
    ] {
        let res = t.send(planted(cookie, field)).await;
        assert_eq!(res.status, 403, "{cookie}");
    }
    // The site's own cookie and field, posted from another site: refused.
    for (header, value) in [
        ("Sec-Fetch-Site", "cross-site"),
        ("Sec-Fetch-Site", "same-site"),
        ("Origin", "https://evil.example"),
        ("Origin", "http://certrail.test.evil.example"),
    ] {
        let res = t
            .send(planted(&cookie_token, &form_token).insert_header((header, value)))
            .await;
        assert_eq!(res.status, 403, "{header}: {value}");
    }
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

#[actix_web::test]
async fn people_change_their_password_and_other_sessions_end() {
    let t = spawn().await;
    let (org, _) = t.org("retailer", CODES[1], "430702").await;
    let generated = new_user(&t, &org, "shop.owner").await;
    let here = log_in(&t, "shop.owner", &generated).await.unwrap();
    let elsewhere = log_in(&t, "shop.owner", &generated).await.unwrap();
    let open = |session: &str, uri: &str| {
        TestRequest::get()
            .uri(uri)
            .cookie(Cookie::new("certrail_session", session.to_string()))
    };
    let page = t.send(open(&here, "/console/password")).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("<label for=\"new_password\">") && html.contains("修改密码"));
    let csrf = csrf_field(&html);
    let change = |csrf: &str, current: &str, new: &str, again: &str| {
        TestRequest::post()
            .uri("/console/password")
            .cookie(Cookie::new("certrail_session", here.clone()))
            .set_form([
                ("csrf_token", csrf),
                ("current_password", current),
                ("new_password", new),
                ("confirm_password", again),
            ])
    };
    let chosen = "红茶 tastes best at 85°C";
    t.send(change("forged", &generated, chosen, chosen))
        .await
        .page_error(403, "表单已过期");
    let wrong = t
        .send(change(&csrf, "not it", chosen, chosen))
        .await
        .page_error(422, "当前密码不正确");
    assert!(wrong.contains("id=\"current_password\" name=\"current_password\" type=\"password\" autocomplete=\"current-password\" required aria-invalid=\"true\""));
    t.send(change(&csrf, &generated, chosen, "something else entirely"))
        .await
        .page_error(422, "两次输入的新密码不一致");
    t.send(change(&csrf, &generated, "short", "short"))
        .await
        .page_error(422, "新密码需要12到128个字符");

    let res = t.send(change(&csrf, &generated, chosen, chosen)).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(res.header("location"), "/console/password?done=1");
    // This session stays; the other one ended; the old password no longer opens anything.
    assert_eq!(t.send(open(&here, "/console")).await.status, 200);
    let ended = t.send(open(&elsewhere, "/console")).await;
    assert_eq!(
        (ended.status.as_u16(), ended.header("location").as_str()),
        (303, "/login")
    );
    let refused = log_in(&t, "shop.owner", &generated).await.unwrap_err();
    assert_eq!(refused.status, 401);
    assert!(log_in(&t, "shop.owner", chosen).await.is_ok());

    // Forgotten: the admin gives a new generated password; every session ends.
    let state = t.state.clone();
    let reset = actix_web::web::block(move || {
        use certrail::service::{access::accounts::reset_password, Actor};
        reset_password(&state, &Actor::Admin, "shop.owner")
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(reset.len(), 20);
    let ended = t.send(open(&here, "/console")).await;
    assert_eq!(ended.status, 303, "every session ends");
    assert!(log_in(&t, "shop.owner", chosen).await.is_err());
    assert!(log_in(&t, "shop.owner", &reset).await.is_ok());
}

#[actix_web::test]
async fn tries_of_the_current_password_are_limited_like_sign_ins() {
    let t = spawn().await;
    let (org, _) = t.org("retailer", CODES[1], "430702").await;
    let generated = new_user(&t, &org, "shop.owner").await;
    let session = log_in(&t, "shop.owner", &generated).await.unwrap();
    let page = t
        .send(
            TestRequest::get()
                .uri("/console/password")
                .cookie(Cookie::new("certrail_session", session.clone())),
        )
        .await;
    let csrf = csrf_field(&page.text());
    let change = |current: &str| {
        TestRequest::post()
            .uri("/console/password")
            .cookie(Cookie::new("certrail_session", session.clone()))
            .set_form([
                ("csrf_token", csrf.as_str()),
                ("current_password", current),
                ("new_password", "a new password, long enough"),
                ("confirm_password", "a new password, long enough"),
            ])
    };
    // Someone at an open session guesses the current password: five tries are heard...
    for n in 0..5 {
        t.send(change(&format!("guess {n}")))
            .await
            .page_error(422, "当前密码不正确");
    }
    // ...then they wait, as a sign-in from the same address would, even with the right one.
    let refused = t.send(change(&generated)).await;
    refused.page_error(429, "提交太频繁");
    assert!(refused.header("retry-after").parse::<u64>().unwrap() >= 1);
    let signing_in = log_in(&t, "shop.owner", &generated).await.unwrap_err();
    assert_eq!(signing_in.status, 429, "the same account and address");
}

#[actix_web::test]
async fn a_sign_in_beyond_the_hashing_budget_is_answered_503_and_not_counted() {
    use certrail::service::access::passwords::HashGate;
    let t = crate::helpers::spawn_with(|c| c.tuning.hash_memory_bytes = HashGate::HASH_BYTES).await;
    let (org, _) = t.org("regulator", CODES[2], "430700").await;
    let password = new_user(&t, &org, "inspector").await;
    assert_eq!(t.state.hashing.size(), 1);
    // The one place to hash is taken (as by a sign-in still running).
    let held = t.state.hashing.permit().unwrap();
    for _ in 0..6 {
        let busy = log_in(&t, "inspector", "guess").await.unwrap_err();
        busy.page_error(503, "服务繁忙");
        assert_eq!(busy.header("retry-after"), "1");
    }
    let api = t
        .post(
            &format!("/api/v1/organizations/{org}/users"),
            Some(&t.admin),
            &json!({"username": "second"}),
        )
        .await;
    api.error(503, "unavailable");
    assert_eq!(api.header("retry-after"), "1");
    drop(held);
    // The refused attempts were never judged, so they did not count against the account.
    assert!(log_in(&t, "inspector", &password).await.is_ok());
}

#[actix_web::test]
async fn sign_in_attempts_are_rate_limited_per_client() {
    let t = spawn().await;
    let (org, _) = t.org("regulator", CODES[2], "430700").await;
    let password = new_user(&t, &org, "inspector").await;
    // Twenty guesses at names that are no account: only the client's bucket counts them.
    for n in 0..20 {
        let refused = log_in(&t, &format!("nobody{n}"), "guess")
            .await
            .unwrap_err();
        assert_eq!(refused.status, 401);
    }
    // Even the right password waits now, and is told how long.
    let refused = log_in(&t, "inspector", &password).await.unwrap_err();
    refused.page_error(429, "提交太频繁");
    assert!(refused.header("retry-after").parse::<u64>().unwrap() >= 1);
}

#[actix_web::test]
async fn a_strangers_failures_hold_back_their_addresses_not_the_owner_and_clients_are_seen_through_trusted_proxies(
) {
    use crate::console::log_in_via;
    let proxy: std::net::SocketAddr = ([10, 0, 0, 1], 40000).into();
    let t = crate::helpers::spawn_with(|c| c.trusted_proxies = vec![proxy.ip()]).await;
    let (org, _) = t.org("regulator", CODES[2], "430700").await;
    let target = new_user(&t, &org, "inspector").await;
    let colleague = new_user(&t, &org, "colleague").await;
    let via = |client: String| {
        move |req: actix_web::test::TestRequest| {
            req.peer_addr(proxy)
                .insert_header(("X-Forwarded-For", client))
        }
    };
    // Ten wrong passwords for the account, from ten addresses behind the proxy, twice over.
    for round in 0..2 {
        for n in 0..10 {
            let res = log_in_via(&t, "inspector", "guess", via(format!("203.0.113.{n}")))
                .await
                .unwrap_err();
            assert_eq!(res.status, 401, "round {round}, address {n}");
        }
    }
    // The owner, from their own address, is heard at once: nobody can lock them out.
    assert!(
        log_in_via(&t, "inspector", &target, via("198.51.100.7".into()))
            .await
            .is_ok(),
        "the owner signs in while a stranger keeps failing"
    );
    // One address that keeps guessing waits, doubling, and is told how long.
    for _ in 0..3 {
        let res = log_in_via(&t, "inspector", "guess", via("203.0.113.1".into()))
            .await
            .unwrap_err();
        assert_eq!(res.status, 401);
    }
    let waiting = log_in_via(&t, "inspector", &target, via("203.0.113.1".into()))
        .await
        .unwrap_err();
    waiting.page_error(429, "提交太频繁");
    assert!(waiting.header("retry-after").parse::<u64>().unwrap() >= 1);
    // The owner is still heard; so is a colleague behind the same proxy.
    assert!(
        log_in_via(&t, "inspector", &target, via("198.51.100.7".into()))
            .await
            .is_ok()
    );
    assert!(
        log_in_via(&t, "colleague", &colleague, via("198.51.100.8".into()))
            .await
            .is_ok()
    );
    // ...and one client's guesses fill that client's bucket only.
    for n in 0..20 {
        let res = log_in_via(&t, &format!("nobody{n}"), "x", via("192.0.2.66".into()))
            .await
            .unwrap_err();
        assert_eq!(res.status, 401);
    }
    let refused = log_in_via(&t, "colleague", &colleague, via("192.0.2.66".into()))
        .await
        .unwrap_err();
    assert_eq!(refused.status, 429);
    assert!(
        log_in_via(&t, "colleague", &colleague, via("192.0.2.67".into()))
            .await
            .is_ok()
    );
    // From a peer that is not a trusted proxy, X-Forwarded-For is the client's to forge and
    // is ignored: the untrusted peer's own bucket fills.
    let stranger: std::net::SocketAddr = ([198, 51, 100, 99], 5000).into();
    for n in 0..20 {
        let res = log_in_via(&t, &format!("nobody{n}"), "x", |req| {
            req.peer_addr(stranger)
                .insert_header(("X-Forwarded-For", format!("192.0.2.{n}")))
        })
        .await
        .unwrap_err();
        assert_eq!(res.status, 401);
    }
    let refused = log_in_via(&t, "colleague", &colleague, |req| {
        req.peer_addr(stranger)
            .insert_header(("X-Forwarded-For", "192.0.2.200"))
    })
    .await
    .unwrap_err();
    assert_eq!(refused.status, 429);
}

#[actix_web::test]
async fn the_label_page_speaks_the_chosen_language() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(CODES[0]).await;
    let issued = t.issue(&producer, &crate::helpers::batch(&product)).await;
    let url = crate::helpers::path_of(issued["verify_url"].as_str().unwrap());
    let chinese = t.get(&url, None).await;
    let html = chinese.text();
    assert!(html.contains("<html lang=\"zh-CN\">") && html.contains("真品"));
    assert!(html.contains("报告问题") && html.contains("流转记录") && html.contains("签发"));
    assert!(
        html.contains("没有发货或进货查验记录"),
        "the warning, in Chinese"
    );
    assert_eq!(chinese.header("vary"), "Accept");
    // The language switch keeps the label's signature.
    let id = issued["id"].as_str().unwrap();
    let switch = html
        .split("hreflang=\"en\"")
        .next()
        .and_then(|before| before.rsplit("href=\"").next())
        .unwrap();
    assert!(
        switch.starts_with(&format!("/v/{id}?s=")) && switch.contains("lang=en"),
        "{switch}"
    );

    let english = t.get(&format!("{url}&lang=en"), None).await;
    assert_eq!(english.status, 200);
    let html = english.text();
    assert!(html.contains("<html lang=\"en\">") && html.contains("Genuine"));
    assert!(html.contains("Report a problem") && html.contains("Trail") && html.contains("Issued"));
    assert!(html.contains("No shipment or seller intake was ever recorded"));
    assert!(
        !html.contains("真品") && !html.contains("没有发货"),
        "{html}"
    );
    let (lang, _) = set_cookie(&english, "lang").expect("the choice is remembered");
    assert_eq!(lang, "en");
    // The JSON answer is the same whatever the page language.
    let answer = t.get_json(&format!("{url}&lang=en")).await.json();
    assert_eq!(
        answer["warnings"][0]["message"],
        "没有发货或进货查验记录。 No shipment or seller intake was ever recorded for these goods."
    );
}
