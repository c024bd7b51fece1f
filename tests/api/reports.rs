//! Regulators' reports: the figures of a region over a date range, by county, producer and
//! retailer, as JSON, CSV and an Excel workbook (read back with calamine), limited to the
//! regulator's jurisdiction.

use serde_json::{json, Value};

use crate::console::{page, sign_in};
use crate::helpers::{batch, code, spawn};

async fn event<S, B>(t: &crate::helpers::TestApp<S>, token: &str, cert: &Value, kind: &str)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let id = cert["id"].as_str().unwrap();
    let res = t
        .post(
            &format!("/api/v1/certificates/{id}/events"),
            Some(token),
            &json!({"type": kind, "label_url": cert["verify_url"]}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
}

#[actix_web::test]
async fn a_regulator_counts_its_region_and_downloads_the_report() {
    let t = spawn().await;
    let (p1_id, p1) = t.org("producer", &code(1), "430702").await;
    let (p2_id, p2) = t.org("producer", &code(2), "430703").await;
    let mut products = Vec::new();
    for token in [&p1, &p2] {
        let res = t
            .post(
                "/api/v1/products",
                Some(token),
                &json!({"name": "擂茶", "model": "250g", "standard": "Q/CD 0001S"}),
            )
            .await;
        products.push(res.json()["id"].as_str().unwrap().to_string());
    }
    let (product1, product2) = (products[0].clone(), products[1].clone());
    let (shop_id, shop) = t.org("retailer", &code(3), "430702").await;
    let (regulator_org, regulator) = t.org("regulator", &code(4), "430700").await;
    let (_, far) = t.org("regulator", &code(5), "110000").await;
    let (_, _elsewhere) = t.org("producer", &code(6), "110101").await;

    let mut certs = Vec::new();
    for n in 0..3 {
        let mut body = batch(&product1);
        body["batch_no"] = json!(format!("P1-{n}"));
        certs.push(t.issue(&p1, &body).await);
    }
    let c2 = t.issue(&p2, &batch(&product2)).await;
    // Two of P1's batches shipped, one taken in: 50 % coverage; P2's one shipped and taken in.
    t.ship(&p1, certs[0]["id"].as_str().unwrap(), &shop_id, None)
        .await;
    event(&t, &p1, &certs[1], "shipped").await;
    event(&t, &shop, &certs[0], "received").await;
    t.ship(&p2, c2["id"].as_str().unwrap(), &shop_id, None)
        .await;
    event(&t, &shop, &c2, "received").await;
    for (cert, result) in [(&certs[0], "conformant"), (&certs[1], "non_conformant")] {
        let id = cert["id"].as_str().unwrap();
        let res = t
            .post(
                &format!("/api/v1/certificates/{id}/inspections"),
                Some(&regulator),
                &json!({"result": result, "findings": "抽检"}),
            )
            .await;
        assert_eq!(res.status, 201);
    }
    let recall = t
        .post(
            "/api/v1/recalls",
            Some(&p2),
            &json!({"product_id": product2, "reason": "标签错误"}),
        )
        .await
        .json();
    let res = t
        .post(
            &format!(
                "/api/v1/recalls/{}/acknowledgements",
                recall["id"].as_str().unwrap()
            ),
            Some(&shop),
            &json!({"quantity_removed": 4}),
        )
        .await;
    assert_eq!(res.status, 201);
    let id2 = certs[2]["id"].as_str().unwrap();
    let case = t
        .post(
            &format!("/api/v1/certificates/{id2}/complaints"),
            None,
            &json!({"category": "quality", "message": "变质", "case": {"respondent_id": p1_id, "claim": "退款"}}),
        )
        .await;
    assert_eq!(case.status, 201, "{}", case.text());
    let case_id = case.json()["case"]["id"].as_str().unwrap().to_string();
    let res = t
        .post(
            &format!("/api/v1/cases/{case_id}/answer"),
            Some(&p1),
            &json!({"outcome": "compensated", "amount_fen": 500, "text": "已退款"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());

    let report = t.get("/api/v1/reports", Some(&regulator)).await;
    assert_eq!(report.status, 200, "{}", report.text());
    let report = report.json();
    let totals = &report["totals"];
    for (figure, value) in [
        ("certificates_issued", 4),
        ("producers_active", 2),
        ("batches_shipped", 3),
        ("batches_shipped_received", 2),
        ("spot_checks", 2),
        ("spot_checks_conformant", 1),
        ("suspensions", 1),
        ("recalls", 1),
        ("recall_retailers", 1),
        ("recall_acknowledged", 1),
        ("complaints", 1),
        ("cases", 1),
        ("cases_open", 1),
        ("cases_overdue", 0),
        ("compensated_fen", 500),
    ] {
        assert_eq!(totals[figure], value, "{figure}: {report}");
    }
    let counties: Vec<&str> = report["by_county"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["region_code"].as_str().unwrap())
        .collect();
    assert_eq!(
        counties,
        ["430702", "430703"],
        "the producer outside the region is not counted"
    );
    assert_eq!(report["by_producer"][0]["certificates_issued"], 3);
    assert_eq!(report["by_producer"][1]["id"], p2_id.as_str());
    let shop_row = &report["by_retailer"][0];
    assert_eq!(shop_row["id"], shop_id.as_str());
    assert_eq!(shop_row["intakes"], 2);
    assert_eq!(shop_row["recall_acknowledged"], 1);

    // A county inside the jurisdiction; nothing outside it; dates checked.
    let county = t
        .get("/api/v1/reports?region=430703", Some(&regulator))
        .await
        .json();
    assert_eq!(county["totals"]["certificates_issued"], 1);
    t.get("/api/v1/reports?region=430702", Some(&far))
        .await
        .error(403, "forbidden");
    assert_eq!(
        t.get("/api/v1/reports", Some(&far)).await.json()["totals"]["certificates_issued"],
        0
    );
    t.get("/api/v1/reports", Some(&p1))
        .await
        .error(403, "forbidden");
    let yesterday = (chrono::Utc::now().date_naive() - chrono::Days::new(1)).format("%Y-%m-%d");
    let before = t
        .get(&format!("/api/v1/reports?to={yesterday}"), Some(&regulator))
        .await
        .json();
    assert_eq!(
        before["totals"]["certificates_issued"], 0,
        "today is outside the range"
    );
    t.get(
        "/api/v1/reports?from=2026-12-31&to=2026-01-01",
        Some(&regulator),
    )
    .await
    .error(422, "invalid_period");
    t.get("/api/v1/reports?from=2026-02-30", Some(&regulator))
        .await
        .error(422, "invalid_date");

    // CSV: one row per level, read back with a CSV reader.
    let res = t.get("/api/v1/reports.csv", Some(&regulator)).await;
    assert_eq!(res.status, 200);
    assert!(res.header("content-disposition").contains(".csv"));
    let mut reader = csv::Reader::from_reader(res.body.as_ref());
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(&rows[0][0], "total");
    assert_eq!(&rows[0][col("certificates_issued")], "4");
    // Two of the three batches shipped were taken in.
    assert_eq!(&rows[0][col("intake_coverage_percent")], "66.7");
    assert_eq!(&rows[0][col("pass_rate_percent")], "50.0");
    assert_eq!(&rows[0][col("compensated_yuan")], "5.00");
    let levels: Vec<&str> = rows.iter().map(|r| &r[0]).collect();
    assert_eq!(
        levels,
        ["total", "county", "county", "producer", "producer", "retailer", "tier", "tier", "tier"]
    );
    assert_eq!(&rows[5][col("retailer_intakes")], "2");
    let tiers: Vec<&str> = rows[6..].iter().map(|r| &r[col("name")]).collect();
    assert_eq!(tiers, ["wholesale", "market", "retail"]);
    assert!(rows[6][col("tier_legs_shipped")].parse::<i64>().is_ok());
    assert_eq!(
        &rows[5][col("tier_legs_shipped")],
        "",
        "only tier rows fill tier columns"
    );

    // Excel: a real workbook another library reads.
    let res = t.get("/api/v1/reports.xlsx", Some(&regulator)).await;
    assert_eq!(res.status, 200);
    use calamine::{DataType, Reader};
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(res.body.to_vec())).unwrap();
    assert_eq!(
        book.sheet_names(),
        [
            "总计 Summary",
            "按县区 By county",
            "按生产者 By producer",
            "按经销商 By retailer",
            "按环节 By tier"
        ]
    );
    let by_tier = book.worksheet_range("按环节 By tier").unwrap();
    assert_eq!(
        by_tier.get_value((3, 0)).unwrap().to_string(),
        "零售 Retail"
    );
    let summary = book.worksheet_range("总计 Summary").unwrap();
    assert_eq!(summary.get_value((0, 1)).unwrap().to_string(), "430700");
    assert_eq!(summary.get_value((3, 1)).unwrap().as_f64(), Some(4.0));
    let producers = book.worksheet_range("按生产者 By producer").unwrap();
    assert!(producers
        .get_value((1, 0))
        .unwrap()
        .to_string()
        .contains(&code(1)));
    assert_eq!(producers.get_value((1, 3)).unwrap().as_f64(), Some(3.0));
    t.get("/api/v1/reports.pdf", Some(&regulator))
        .await
        .error(404, "not_found");

    // The page: figures, charts, downloads.
    let session = sign_in(&t, &regulator_org, "inspector.report").await;
    let html = t.send(page(&session, "/console/reports")).await.text();
    assert!(
        html.contains("进货查验覆盖率") && html.contains("50%"),
        "{html}"
    );
    assert_eq!(
        html.matches("<rect ").count(),
        4,
        "two counties, two charts"
    );
    assert!(html.contains("/console/reports.xlsx?region=430700"));
    let file = t
        .send(page(
            &session,
            "/console/reports.csv?region=430702&from=&to=",
        ))
        .await;
    assert_eq!(file.status, 200);
    assert!(String::from_utf8_lossy(&file.body).starts_with("level,"));
    let bad = t
        .send(page(&session, "/console/reports?from=2026-13-01"))
        .await;
    assert_eq!(bad.status, 200);
    assert!(bad.text().contains("role=\"alert\""));
}

#[actix_web::test]
async fn a_regulators_search_pages_past_fifty_results() {
    let t = spawn().await;
    let (producer, product) = t.producer_with_product(&code(1)).await;
    let (regulator_org, _) = t.org("regulator", &code(2), "430700").await;
    let certificates: Vec<Value> = (0..53)
        .map(|n| {
            let mut b = batch(&product);
            b["batch_no"] = json!(format!("PG-{n:03}"));
            b
        })
        .collect();
    let res = t
        .post(
            "/api/v1/certificates/bulk",
            Some(&producer),
            &json!({"certificates": certificates}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let session = sign_in(&t, &regulator_org, "inspector.page").await;
    let first = t.send(page(&session, "/console?q=PG-")).await.text();
    assert_eq!(first.matches("href=\"/console/certificates/").count(), 50);
    assert!(
        first.contains("href=\"/console?q=PG-&amp;page=2\"")
            || first.contains("href=\"/console?q=PG-&#38;page=2\""),
        "{first}"
    );
    let second = t.send(page(&session, "/console?q=PG-&page=2")).await.text();
    assert_eq!(second.matches("href=\"/console/certificates/").count(), 3);
    assert!(!second.contains("page=3"), "no page after the last");
    let far = t
        .send(page(&session, "/console?q=PG-&page=9223372036854775807"))
        .await;
    assert_eq!(
        far.status, 200,
        "a page past the end is an empty page, not an overflow"
    );
}

#[actix_web::test]
async fn organization_names_that_look_like_formulas_are_neutralised_in_the_csv() {
    let t = spawn().await;
    let named = |kind: &'static str, name: &'static str, n: u32| {
        let t = &t;
        async move {
            let res = t
                .post(
                    "/api/v1/organizations",
                    Some(&t.admin),
                    &json!({"kind": kind, "name": name, "credit_code": code(n),
                            "region_code": "430702", "address": "湖南省常德市武陵区人民路1号"}),
                )
                .await;
            assert_eq!(res.status, 201, "{}", res.text());
            let id = res.json()["id"].as_str().unwrap().to_string();
            let res = t
                .post(
                    &format!("/api/v1/organizations/{id}/tokens"),
                    Some(&t.admin),
                    &json!({}),
                )
                .await;
            (id, res.json()["token"].as_str().unwrap().to_string())
        }
    };
    let hyperlink = r#"=HYPERLINK("http://x","y")"#;
    let (_, producer) = named("producer", hyperlink, 1).await;
    let (shop_id, shop) = named("retailer", "@SUM(1+1)", 2).await;
    let (_, regulator) = t.org("regulator", &code(3), "430700").await;
    let product = t
        .post(
            "/api/v1/products",
            Some(&producer),
            &json!({"name": "擂茶", "model": "250g", "standard": "Q/CD 0001S"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cert = t.issue(&producer, &batch(&product)).await;
    t.ship(&producer, cert["id"].as_str().unwrap(), &shop_id, None)
        .await;
    event(&t, &shop, &cert, "received").await;

    let res = t.get("/api/v1/reports.csv", Some(&regulator)).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let mut reader = csv::Reader::from_reader(res.body.as_ref());
    let name = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "name")
        .unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let name_of = |level: &str| {
        rows.iter()
            .find(|r| &r[0] == level)
            .map(|r| r[name].to_string())
            .unwrap()
    };
    assert_eq!(name_of("producer"), format!("'{hyperlink}"));
    assert_eq!(name_of("retailer"), "'@SUM(1+1)");
    // Figures stay plain numbers.
    assert_eq!(&rows[0][0], "total");
    assert!(rows[0].iter().skip(5).all(|c| !c.starts_with('\'')));
    // The JSON report keeps the names as they are.
    let json = t.get("/api/v1/reports", Some(&regulator)).await.json();
    assert!(
        json.to_string()
            .contains(r#"=HYPERLINK(\"http://x\",\"y\")"#),
        "{json}"
    );
}
