//! `certrail demo`: a small, realistic Changde dataset for a first look, built through the
//! same use cases the API calls.
//!
//! Longer than 400 lines because it is one script: the demo dataset, step by step, in the order a pilot city makes it.

use chrono::{Days, Utc};

use crate::db::models::Organization;
use crate::domain::credit_code::check_char;
use crate::domain::payload::{InspectionItem, Mark};
use crate::error::{AppError, AppResult};

use crate::service::access::accounts::{create_user, NewUser};
use crate::service::access::organizations::{create, NewOrganization};
use crate::service::access::tokens;
use crate::service::certification::labs::{self, NewAccreditation};
use crate::service::certification::marks::{self, NewMark};
use crate::service::custody::events::{self, NewEvent};
use crate::service::issuance::issue::{issue, IssueRequest};
use crate::service::issuance::labels;
use crate::service::issuance::products::{create as create_product, NewProduct};
use crate::service::verify::{verify, Label, Source};
use crate::service::{Actor, AppState};

/// Unit 3 of a batch scanned by consumers in Changde and in Guangzhou within the hour:
/// the copy warning a regulator's dashboard lists.
fn copied_label_scans(state: &AppState, producer: &Actor, id: &str) -> AppResult<()> {
    let url = labels::unit_label(state, producer, id, 3)?;
    let scanned = crate::domain::label::parse("label", &url)?;
    for region in ["430702", "440106"] {
        let label = Label {
            id: &scanned.id,
            serial: scanned.serial,
            signature: scanned.signature.as_deref(),
        };
        verify(
            state,
            &label,
            Source::Consumer {
                region: Some(region),
            },
        )?;
    }
    Ok(())
}

/// One organization the demo created, with its token (shown once).
#[derive(Debug, Clone)]
pub struct DemoOrg {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub token: String,
    /// A user for the pages, and its password (shown once).
    pub username: String,
    pub password: String,
}

/// What the demo created.
#[derive(Debug, Clone, Default)]
pub struct DemoData {
    pub organizations: Vec<DemoOrg>,
    /// (product name, batch no, verify URL)
    pub certificates: Vec<(String, String, String)>,
}

/// A valid credit code from its first 17 characters.
fn credit(first17: &str) -> String {
    format!("{first17}{}", check_char(first17).unwrap_or('0'))
}

fn item(name: &str, requirement: &str, measured: &str) -> InspectionItem {
    InspectionItem {
        name: name.into(),
        requirement: requirement.into(),
        measured: measured.into(),
        verdict: "pass".into(),
    }
}

/// Fills an empty database. Refuses to touch one that already has organizations.
pub fn load(state: &AppState) -> AppResult<DemoData> {
    {
        let mut conn = state.db.reader()?;
        if Organization::count(&mut conn)? > 0 {
            return Err(AppError::Conflict {
                code: "not_empty",
                message: "the database already has data; run the demo on a fresh CERTRAIL_DATA_DIR"
                    .into(),
            });
        }
    }
    let admin = Actor::Admin;
    let orgs = [
        (
            "producer",
            "常德市德山酱板鸭食品有限公司",
            "91430702MA4L8K2P3",
            "430702",
            "湖南省常德市武陵区德山大道18号",
        ),
        (
            "producer",
            "湖南桃源红茶业有限公司",
            "91430725MA4PXK3B5",
            "430725",
            "湖南省常德市桃源县漳江镇茶园路6号",
        ),
        (
            "producer",
            "常德市鼎城区稻香米业有限公司",
            "91430703MA4R2N7Q1",
            "430703",
            "湖南省常德市鼎城区武陵镇粮库路3号",
        ),
        (
            "retailer",
            "步步高超市常德武陵店",
            "91430702MA4M5T9W2",
            "430702",
            "湖南省常德市武陵区人民路288号",
        ),
        (
            "retailer",
            "常德市惠民生鲜超市有限公司",
            "91430702MA4N6U1X8",
            "430702",
            "湖南省常德市武陵区朗州路66号",
        ),
        (
            "regulator",
            "常德市市场监督管理局",
            "11430700MB1C2D3E4",
            "430700",
            "湖南省常德市武陵区洞庭大道西段1号",
        ),
        (
            "certification_body",
            "中绿华夏有机产品认证中心",
            "12100000MB0123456",
            "110000",
            "北京市朝阳区农展馆南里11号",
        ),
        (
            "lab",
            "常德市食品检验检测中心",
            "12430700MB1234567",
            "430700",
            "湖南省常德市武陵区柳叶大道2号",
        ),
        // The chain of a lot of rice on its 承诺达标合格证: a co-operative, a wholesale
        // market and two of its stallholders.
        (
            "producer",
            "安乡县稻丰水稻种植专业合作社",
            "93430721MA4T8P2K6",
            "430721",
            "湖南省常德市安乡县安障乡稻丰村",
        ),
        (
            "market_operator",
            "常德市农产品批发市场有限公司",
            "91430702MA4U3H5L7",
            "430702",
            "湖南省常德市武陵区德山大道99号",
        ),
        (
            "retailer",
            "常德市农产品批发市场 A12 摊位",
            "92430702MA4X6J8M9",
            "430702",
            "常德市农产品批发市场粮油区 A12",
        ),
        (
            "retailer",
            "常德市农产品批发市场 B07 摊位",
            "92430702MA4W9K1N3",
            "430702",
            "常德市农产品批发市场粮油区 B07",
        ),
    ];
    let mut data = DemoData::default();
    let mut actors = Vec::new();
    for (kind, name, first17, region, address) in orgs {
        let view = create(
            state,
            &admin,
            NewOrganization {
                // Stallholders sell under the market created before them.
                market_id: name
                    .contains("摊位")
                    .then(|| {
                        data.organizations
                            .iter()
                            .find(|o| o.kind == "market_operator")
                            .map(|o| o.id.clone())
                    })
                    .flatten(),
                kind: kind.into(),
                name: name.into(),
                credit_code: credit(first17),
                region_code: region.into(),
                address: address.into(),
            },
        )?;
        let token = tokens::create(state, &admin, &view.id, Default::default())?.token;
        let username = format!(
            "{kind}{}",
            data.organizations.iter().filter(|o| o.kind == kind).count() + 1
        )
        .replace('_', "-");
        let user = create_user(
            state,
            &admin,
            &view.id,
            NewUser {
                username,
                platform_admin: false,
            },
        )?;
        let org = {
            let mut conn = state.db.reader()?;
            Organization::find(&mut conn, &view.id)?
                .ok_or_else(|| AppError::not_found("organization"))?
        };
        actors.push(Actor::Org(org));
        data.organizations.push(DemoOrg {
            id: view.id,
            kind: kind.into(),
            name: name.into(),
            token,
            username: user.username,
            password: user.password,
        });
    }

    let today = Utc::now().date_naive();
    let day = |ago: u64| {
        today
            .checked_sub_days(Days::new(ago))
            .unwrap_or(today)
            .format("%Y-%m-%d")
            .to_string()
    };
    let ahead = |days: u64| {
        today
            .checked_add_days(Days::new(days))
            .unwrap_or(today)
            .format("%Y-%m-%d")
            .to_string()
    };
    let (retailer, cert_body, lab) = (&actors[3], &actors[6], &actors[7]);
    let lab_id = data.organizations[7].id.clone();
    for (scheme, number, scope) in [
        (
            "CMA",
            "231812050123",
            "食品、食用农产品：感官、净含量、菌落总数、大肠菌群、理化指标",
        ),
        (
            "CATL",
            "[2024]农质检核(湘)字第0107号",
            "农产品质量安全检测：感官、净含量、菌落总数",
        ),
    ] {
        let accreditation = NewAccreditation {
            scheme: scheme.into(),
            number: number.into(),
            scope: scope.into(),
            valid_from: day(400),
            valid_until: ahead(1000),
        };
        // The lab's claim counts once the city's market regulator confirms it.
        let claimed = labs::add(state, lab, accreditation)?;
        labs::confirm(state, &actors[5], &claimed.id)?;
    }
    let organic = Mark {
        scheme: "organic".into(),
        cert_no: "1240P2300123".into(),
    };
    let products = [
        (
            0,
            "酱板鸭（香辣味）",
            "500g/袋",
            "GB/T 23586-2022",
            Some("6901234567892"),
            "酱卤肉制品",
            vec![],
        ),
        (
            1,
            "桃源工夫红茶",
            "250g/罐 特级",
            "GB/T 13738.2-2017",
            None,
            "茶叶",
            vec![organic.clone()],
        ),
        (
            2,
            "稻香粳米",
            "10kg/袋 一级",
            "GB/T 1354-2018",
            None,
            "大米",
            vec![],
        ),
    ];
    for (n, (producer, name, model, standard, gtin, category, marks)) in
        products.into_iter().enumerate()
    {
        let actor = &actors[producer];
        let new_product = NewProduct {
            name: name.into(),
            model: model.into(),
            standard: standard.into(),
            gtin: gtin.map(Into::into),
            category: Some(category.into()),
            marks: Some(marks.clone()),
        };
        let product = create_product(state, actor, new_product)?;
        for mark in &marks {
            let record = NewMark {
                product_id: product.id.clone(),
                scheme: mark.scheme.clone(),
                cert_no: mark.cert_no.clone(),
                valid_from: day(200),
                valid_until: ahead(165),
            };
            marks::record(state, cert_body, record)?;
        }
        for batch in 0..2u64 {
            let batch_no = format!("{}-{:02}", today.format("%Y%m%d"), batch + 1);
            let request = IssueRequest {
                product_id: product.id.clone(),
                batch_no: batch_no.clone(),
                quantity: 1200 + 300 * (n as i64),
                unit: if n == 1 { "罐".into() } else { "袋".into() },
                production_date: day(2 + batch),
                inspection_date: day(1 + batch),
                inspector: format!("QC-{:02}", 7 + n),
                result: "pass".into(),
                items: Some(vec![
                    item("感官", "色泽正常，无异味", "符合"),
                    item("净含量", "≥ 标示值", "合格"),
                    item("菌落总数", "≤ 10000 CFU/g", "3200 CFU/g"),
                ]),
                lab_report_no: Some(format!(
                    "CD-LAB-{}-{:04}",
                    today.format("%Y"),
                    101 + n as u64 * 10 + batch
                )),
                expiry_date: Some(ahead(180)),
                units: (batch == 0).then_some(12),
                lab_id: Some(lab_id.clone()),
            };
            let issued = issue(state, actor, request)?;
            // Every batch goes to the supermarket: the first was taken in, the second is on
            // its way (its intake is the retailer's to record).
            let shipped = NewEvent {
                kind: "shipped".into(),
                note: Some("冷链配送".into()),
                consignee: match retailer {
                    Actor::Org(o) => Some(o.id.clone()),
                    Actor::Admin => None,
                },
                quantity: Some(600),
                ..Default::default()
            };
            events::record(state, actor, &issued.id, shipped)?;
            if batch == 0 {
                let intake = NewEvent {
                    kind: "received".into(),
                    serial: None,
                    label_url: Some(issued.verify_url.clone()),
                    note: Some("进货查验".into()),
                    ..Default::default()
                };
                events::record(state, retailer, &issued.id, intake)?;
                if n == 0 {
                    copied_label_scans(state, actor, &issued.id)?;
                }
            }
            data.certificates
                .push((name.to_string(), batch_no, issued.verify_url));
        }
    }
    // The co-operative's rice; its lots are promised on 承诺达标合格证 from its console.
    create_product(
        state,
        &actors[8],
        NewProduct {
            name: "安乡大米".into(),
            model: "散装".into(),
            standard: "GB/T 1354-2018".into(),
            gtin: None,
            category: Some("食用农产品".into()),
            marks: None,
        },
    )?;
    Ok(data)
}
