//! Administration: onboarding organizations from CSV (all or none, errors by line),
//! deactivation that stops tokens and sessions at once, users, and the admin console that a
//! platform admin user signs in to.

use actix_web::test::TestRequest;
use serde_json::json;

use crate::console::{field, form, log_in, new_user, page, sign_in};
use crate::helpers::{code, spawn, with_token};

fn csv_post(token: &str, body: &str) -> TestRequest {
    with_token(
        TestRequest::post()
            .uri("/api/v1/organizations/import")
            .insert_header(("content-type", "text/csv"))
            .set_payload(body.to_string()),
        Some(token),
    )
}

#[actix_web::test]
async fn onboarding_registers_all_or_none_with_errors_by_line() {
    let t = spawn().await;
    let (_, existing) = t.org("producer", &code(9), "430702").await;
    let before = t.counts();
    let bad = format!(
        "kind,name,credit_code,region_code,address\n\
         producer,常德甲食品有限公司,{},430702,武陵区一号\n\
         bakery,常德乙,{},430702,武陵区二号\n\
         retailer,常德丙超市,91430700MA0000000X,430702,武陵区三号\n\
         retailer,常德丁超市,{},430702,武陵区四号\n\
         lab,,{},4307,x\n",
        code(1),
        code(2),
        code(1),
        code(3)
    );
    let res = t.send(csv_post(&t.admin, &bad)).await;
    assert_eq!(res.status, 422, "{}", res.text());
    let body = res.json();
    assert_eq!(body["error"]["code"], "invalid_rows");
    let lines: Vec<(i64, &str)> = body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_i64().unwrap(), r["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        lines,
        [
            (3, "kind"),
            (4, "credit_code"),
            (5, "credit_code"),
            (6, "name")
        ],
        "{body}"
    );
    assert_eq!(t.counts(), before, "nothing registered");

    let good = format!(
        "\u{feff}类型,名称,统一社会信用代码,行政区划代码,地址\n\
         producer,常德甲食品有限公司,{},430702,武陵区一号\n\
         retailer,\"常德丙超市, 武陵店\",{},430703,鼎城区三号\n",
        code(1),
        code(2)
    );
    t.send(csv_post(&existing, &good))
        .await
        .error(403, "forbidden");
    let res = t.send(csv_post(&t.admin, &good)).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let created = res.json();
    assert_eq!(created.as_array().unwrap().len(), 2);
    assert_eq!(created[1]["name"], "常德丙超市, 武陵店");
    assert_eq!(
        created[0]["public_key"].as_str().unwrap().len(),
        43,
        "each with its key"
    );
    // Again: every line clashes with what exists now.
    let again = t.send(csv_post(&t.admin, &good)).await;
    assert_eq!(again.status, 422);
    assert_eq!(again.json()["rows"][1]["line"], 3);
    assert_eq!(again.json()["rows"][1]["code"], "duplicate_credit_code");
    let found = t
        .get(
            &format!(
                "/api/v1/organizations?q={}",
                url::form_urlencoded::byte_serialize("常德丙".as_bytes()).collect::<String>()
            ),
            Some(&t.admin),
        )
        .await
        .json();
    assert_eq!(found.as_array().unwrap().len(), 1);
    t.get("/api/v1/organizations", Some(&existing))
        .await
        .error(403, "forbidden");
}

#[actix_web::test]
async fn admin_actions_are_audited_without_their_secrets() {
    let t = spawn().await;
    // The admin registers an organization and gives it a token.
    let (org, token) = t.org("retailer", &code(1), "430702").await;
    // The organization makes a second token and revokes it.
    let tokens = format!("/api/v1/organizations/{org}/tokens");
    let res = t
        .post(
            &tokens,
            Some(&token),
            &json!({"name": "收银台", "scope": "read"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let (second, second_id) = (
        res.json()["token"].as_str().unwrap().to_string(),
        res.json()["id"].as_str().unwrap().to_string(),
    );
    let revoke = with_token(
        TestRequest::delete().uri(&format!("{tokens}/{second_id}")),
        Some(&token),
    );
    let res = t.send(revoke).await;
    assert!(res.status.is_success(), "{}", res.text());
    // The admin gives it a user, then a new password.
    let password = new_user(&t, &org, "shop.li").await;
    let res = t
        .post("/api/v1/users/shop.li/password", Some(&t.admin), &json!({}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let new_password = res.json()["password"].as_str().unwrap().to_string();

    let audit = t.get("/api/v1/audit", Some(&t.admin)).await.json();
    let entries: Vec<(&str, &str, &str)> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor_kind"].as_str().unwrap(),
                e["target"].as_str().unwrap(),
            )
        })
        .collect();
    let org_target = format!("organization:{org}");
    assert_eq!(
        entries,
        [
            ("user.password_reset", "admin", "user:shop.li"),
            ("user.create", "admin", "user:shop.li"),
            ("token.revoke", "retailer", org_target.as_str()),
            ("token.create", "retailer", org_target.as_str()),
            ("token.create", "admin", org_target.as_str()),
            ("organization.create", "admin", org_target.as_str()),
        ]
    );
    assert_eq!(audit[2]["detail"]["id"], second_id.as_str());
    assert_eq!(audit[3]["detail"]["scope"], "read");
    // The registration is the region's to read; credentials are the admin's alone.
    assert_eq!(audit[5]["region_code"], "430702");
    assert!((0..5).all(|n| audit[n]["region_code"] == ""), "{audit}");
    let text = audit.to_string();
    for secret in [&token, &second, &password, &new_password] {
        assert!(!text.contains(secret.as_str()), "{secret} in {text}");
    }
}

#[actix_web::test]
async fn a_deactivated_organization_stops_at_once_and_comes_back() {
    let t = spawn().await;
    let (org, token) = t.org("retailer", &code(1), "430702").await;
    let password = new_user(&t, &org, "shop.zhou").await;
    let session = log_in(&t, "shop.zhou", &password).await.expect("signed in");
    assert_eq!(t.send(page(&session, "/console")).await.status, 200);
    assert_eq!(t.get("/api/v1/recalls", Some(&token)).await.status, 200);

    let url = format!("/api/v1/organizations/{org}/deactivate");
    t.post(&url, Some(&token), &json!({"reason": "x"}))
        .await
        .error(403, "forbidden");
    let res = t
        .post(&url, Some(&t.admin), &json!({"reason": "营业执照注销"}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.json()["deactivated_at"].is_string());
    t.get("/api/v1/recalls", Some(&token))
        .await
        .error(401, "unauthorized");
    let gone = t.send(page(&session, "/console")).await;
    assert_eq!(gone.status, 303, "the session ended");
    assert!(gone.header("location").starts_with("/login"));
    let refused = log_in(&t, "shop.zhou", &password).await.unwrap_err();
    assert_eq!(refused.status, 403);
    assert!(
        refused.text().contains("此账户已停用"),
        "{}",
        refused.text()
    );

    let res = t
        .post(
            &format!("/api/v1/organizations/{org}/reactivate"),
            Some(&t.admin),
            &json!({"reason": "复业"}),
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(t.get("/api/v1/recalls", Some(&token)).await.status, 200);
    let audit = t.get("/api/v1/audit", Some(&t.admin)).await.json();
    assert_eq!(audit[0]["action"], "organization.reactivate");
    assert_eq!(audit[1]["action"], "organization.deactivate");

    // One user deactivated: that user only.
    let users = t
        .get(
            &format!("/api/v1/organizations/{org}/users"),
            Some(&t.admin),
        )
        .await
        .json();
    assert_eq!(users[0]["username"], "shop.zhou");
    assert_eq!(users[0]["active"], true);
    let session = log_in(&t, "shop.zhou", &password)
        .await
        .expect("signed in again");
    let res = t
        .post(
            "/api/v1/users/shop.zhou/deactivate",
            Some(&t.admin),
            &json!({}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(t.send(page(&session, "/console")).await.status, 303);
    assert!(log_in(&t, "shop.zhou", &password).await.is_err());
    t.post(
        "/api/v1/users/shop.zhou/reactivate",
        Some(&t.admin),
        &json!({}),
    )
    .await;
    let reset = t
        .post(
            "/api/v1/users/shop.zhou/password",
            Some(&t.admin),
            &json!({}),
        )
        .await
        .json();
    let new_password = reset["password"].as_str().unwrap();
    assert!(
        log_in(&t, "shop.zhou", &password).await.is_err(),
        "the old one is gone"
    );
    assert!(log_in(&t, "shop.zhou", new_password).await.is_ok());
    t.post(
        "/api/v1/users/nobody/deactivate",
        Some(&t.admin),
        &json!({}),
    )
    .await
    .error(404, "not_found");
}

#[actix_web::test]
async fn the_platform_admin_signs_in_to_the_admin_console() {
    let t = spawn().await;
    let (regulator, _) = t.org("regulator", &code(1), "430700").await;
    let created = t
        .post(
            &format!("/api/v1/organizations/{regulator}/users"),
            Some(&t.admin),
            &json!({"username": "platform.ops", "platform_admin": true}),
        )
        .await
        .json();
    let session = log_in(&t, "platform.ops", created["password"].as_str().unwrap())
        .await
        .expect("signed in");
    let home = t.send(page(&session, "/console")).await;
    assert_eq!(home.status, 303);
    assert_eq!(home.header("location"), "/console/admin");
    let html = t.send(page(&session, "/console/admin")).await.text();
    assert!(
        html.contains("批量登记") && html.contains("平台管理"),
        "{html}"
    );
    let csrf = field(&html, "csrf_token");

    let res = t
        .send(form(
            &session,
            "/console/admin/organizations",
            &[
                ("csrf_token", &csrf),
                ("kind", "producer"),
                ("name", "<i>桃源</i>擂茶厂"),
                ("credit_code", &code(2)),
                ("region_code", "430725"),
                ("address", "桃源县"),
            ],
        ))
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let detail = res.header("location");
    let html = t.send(page(&session, &detail)).await.text();
    assert!(html.contains("&#60;i&#62;桃源") && !html.contains("<i>桃源"));
    let res = t
        .send(form(
            &session,
            &format!("{}/users", detail.split('?').next().unwrap()),
            &[("csrf_token", &csrf), ("username", "tea.maker")],
        ))
        .await;
    assert_eq!(res.status, 200);
    assert!(
        res.text().contains("tea.maker"),
        "the new password is shown once"
    );

    let bad = t
        .send(form(
            &session,
            "/console/admin/import",
            &[
                ("csrf_token", &csrf),
                (
                    "csv",
                    "kind,name,credit_code,region_code,address\nproducer,甲,123,430702,x\n",
                ),
            ],
        ))
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.text().contains("第2行"), "errors by line");

    // An ordinary user cannot open it.
    let other = sign_in(&t, &regulator, "inspector.wu").await;
    assert_eq!(t.send(page(&other, "/console/admin")).await.status, 403);
}
