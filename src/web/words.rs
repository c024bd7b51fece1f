//! What pages call things, in Chinese and English: verdicts, trail events, mark statuses and
//! the rules a request can break. The API keeps its stable codes; pages turn them into words.

use crate::domain::text::minute;
use crate::domain::trail::EventType;
use crate::domain::verdict::Verdict;
use crate::error::AppError;
use crate::service::tlog::inclusion::Position;

use crate::web::page::Lang;

/// A verdict in words, with the colour class that goes with it (never colour alone).
#[derive(Debug, Clone, Copy)]
pub struct VerdictWords {
    pub zh: &'static str,
    pub en: &'static str,
    explain_zh: &'static str,
    explain_en: &'static str,
    /// `ok`, `warn`, `bad` or `unknown`.
    pub tone: &'static str,
}

impl VerdictWords {
    pub fn title(&self, lang: &Lang) -> &'static str {
        lang.pick(self.zh, self.en)
    }

    pub fn explanation(&self, lang: &Lang) -> &'static str {
        lang.pick(self.explain_zh, self.explain_en)
    }
}

pub fn verdict(verdict: Verdict) -> VerdictWords {
    let (zh, en, explain_zh, explain_en, tone) = match verdict {
        Verdict::Genuine => (
            "真品",
            "Genuine",
            "此合格证由生产者签发，签名验证通过。",
            "Issued and signed by the producer; the signature checks out.",
            "ok",
        ),
        Verdict::Expired => (
            "已过期",
            "Expired",
            "产品已超过保质期。",
            "The product is past its expiry date.",
            "warn",
        ),
        Verdict::Suspended => (
            "已暂停",
            "Suspended",
            "此合格证已被暂停，请谨慎购买。",
            "The certificate is suspended: buy with care.",
            "warn",
        ),
        Verdict::Recalled => (
            "已召回",
            "Recalled",
            "此批次产品已召回，请勿使用。",
            "This batch is recalled: do not use it.",
            "bad",
        ),
        Verdict::Revoked => (
            "已撤销",
            "Revoked",
            "此合格证已被撤销。",
            "The certificate was revoked.",
            "bad",
        ),
        Verdict::Tampered => (
            "数据异常",
            "Tampered",
            "存储的证书数据与签名不符。",
            "The stored record does not match its signature.",
            "bad",
        ),
        Verdict::Forged => (
            "疑似伪造",
            "Forged",
            "标签签名无效，可能是伪造标签。",
            "The label's signature is not valid: it may be forged.",
            "bad",
        ),
        Verdict::Unknown => (
            "未找到",
            "Unknown",
            "没有此编号的合格证。",
            "No certificate has this id.",
            "unknown",
        ),
    };
    VerdictWords {
        zh,
        en,
        explain_zh,
        explain_en,
        tone,
    }
}

/// The notice after a custody form (`?done=`), if it names one.
pub fn done(lang: Lang, done: Option<&str>) -> Option<String> {
    let (zh, en) = match done? {
        "received" => ("已记录进货。", "Intake recorded."),
        "claim_decided" => ("已处理该进货确认请求。", "The claim was decided."),
        "claimed" => (
            "已登记进货，但没有向您发货的记录：待上一持有方（默认为生产者）或监管部门确认后才计入追溯记录。",
            "Intake noted, but nothing was shipped to you: it joins the trail once the previous holder (the producer unless you named another) or a regulator confirms it.",
        ),
        "rejected" => (
            "已拒收，发货方会在控制台看到原因。",
            "Refused: the shipper sees the reason on its console.",
        ),
        "shipped" => (
            "已记录发货，收货方进货查验后这一段即完成。",
            "Shipment recorded: the consignee's intake closes this leg.",
        ),
        "split" => (
            "已重新开具分装后的承诺达标合格证。",
            "The child lots' 承诺达标合格证 were issued.",
        ),
        _ => return None,
    };
    Some(lang.pick(zh, en).to_string())
}

/// A trail event's name.
pub fn event(lang: Lang, kind: EventType) -> &'static str {
    let (zh, en) = match kind {
        EventType::Issued => ("签发", "Issued"),
        EventType::Shipped => ("发货", "Shipped"),
        EventType::Received => ("进货查验", "Received by a seller"),
        EventType::Rejected => ("拒收", "Refused at intake"),
        EventType::Sold => ("售出", "Sold"),
        EventType::Inspected => ("监督抽检", "Inspected by a regulator"),
        EventType::Suspended => ("暂停", "Suspended"),
        EventType::Reinstated => ("恢复", "Reinstated"),
        EventType::Revoked => ("撤销", "Revoked"),
        EventType::Recalled => ("召回", "Recalled"),
        EventType::ReinstatementRequested => ("申请恢复", "Reinstatement requested"),
        EventType::ReinstatementRefused => ("恢复申请被驳回", "Reinstatement refused"),
        EventType::CaseUpdated => ("先行赔付案件", "Compensation case"),
    };
    lang.pick(zh, en)
}

/// A certification mark's status as the certification body records it, and its tone.
pub fn mark_status(lang: Lang, status: &str) -> (&'static str, &'static str) {
    let (zh, en, tone) = match status {
        "valid" => ("有效", "Valid", "ok"),
        "suspended" => ("已暂停或撤销", "Suspended or withdrawn", "bad"),
        "expired" => ("已过期", "Expired", "warn"),
        _ => (
            "认证机构无记录",
            "Not on record with the certification body",
            "warn",
        ),
    };
    (lang.pick(zh, en), tone)
}

/// A kept copy warning's short name (the dashboard's list).
pub fn warning(lang: Lang, code: &str) -> &str {
    let (zh, en) = match code {
        "scanned_far_apart" => ("短时间内异地扫描", "Scanned far apart"),
        "scanned_too_often" => ("扫描次数过多", "Scanned too often"),
        "received_by_several_retailers" => ("多家销售者登记进货", "Received by several sellers"),
        "lab_not_accredited" => ("检验机构资质不符", "Lab not accredited"),
        "forged_label_scanned" => ("扫到仿冒标签", "Forged label scanned"),
        other => (other, other),
    };
    lang.pick(zh, en)
}

/// The Chinese sentence for an error code, where pages have one.
fn rule_zh(code: &str) -> Option<&'static str> {
    Some(match code {
        "required" => "必须填写。",
        "too_long" => "内容太长。",
        "invalid_characters" => "不能包含控制字符、文字方向控制符或字节顺序标记。",
        "invisible_text" => "请填写可见的文字。",
        "invalid_date" => "请填写真实存在的日期（年-月-日）。",
        "not_a_number" => "请填写整数。",
        "out_of_range" => "数值超出允许范围。",
        "invalid_period" => "结束日期必须晚于开始日期。",
        "production_date_in_future" => "生产日期不能晚于今天。",
        "inspection_before_production" => "检验日期不能早于生产日期。",
        "inspection_date_in_future" => "检验日期不能晚于今天。",
        "expiry_before_production" => "保质期必须晚于生产日期。",
        "result_not_pass" => "只有检验合格的批次才能签发合格证。",
        "item_failed" => "有检验项目不合格，该批次不能签发合格证。",
        "invalid_verdict" | "invalid_result" => "检验结论只能是合格或不合格。",
        "too_many" | "too_many_labels" => "数量超过上限。",
        "invalid_credit_code" => "统一社会信用代码无效（GB 32100-2015）。",
        "invalid_gtin" => "商品条码无效：应为8、12、13或14位数字，且校验位正确。",
        "invalid_label" => "这不是 certrail 合格证标签的内容。",
        "label_mismatch" => "标签与此合格证不符。",
        "invalid_region_code" => "行政区划代码应为6位数字，例如 430700。",
        "invalid_category" => "请选择问题类型。",
        "invalid_query" => "查询条件无效。",
        "invalid_transition" => "合格证当前的状态不允许此操作。",
        "nothing_to_recall" => "没有可召回的合格证。",
        "not_serialized" => "此合格证没有单品码。",
        "not_received" => "尚未登记进货，不能登记售出。",
        "unknown_lab" => "找不到此检验机构。",
        "key_rotated" => "签名密钥已更换，请重新签发。",
        "invalid_username" => "用户名为3到64个字符：字母、数字、点、横线或下划线。",
        "username_taken" => "此用户名已被使用。",
        "weak_password" => "新密码需要12到128个字符，且不能与当前密码相同。",
        "wrong_password" => "当前密码不正确。",
        "password_mismatch" => "两次输入的新密码不一致。",
        "not_found" | "unknown_certificate" => "找不到此内容。",
        "forbidden" => "无权执行此操作，或表单已过期：请返回、刷新页面后重试。",
        "unauthorized" => "请先登录。",
        "rate_limited" => "提交太频繁，请稍后再试。",
        "conflict" => "内容已存在。",
        "payload_too_large" => "提交的内容太大。",
        "database_unavailable" => "服务暂时不可用，请稍后再试。",
        "unavailable" => "服务繁忙，请稍后再试。",
        "request_timeout" => "提交的内容没有及时送达，请重试。",
        "internal_error" => "服务器出错了，请稍后再试。",
        _ => return None,
    })
}

/// An error as a page shows it: the Chinese sentence for its code (the English message where
/// there is none yet), or the English message.
pub fn error(lang: Lang, code: &str, english: &str) -> String {
    match (lang, rule_zh(code)) {
        (Lang::Zh, Some(zh)) => zh.to_string(),
        _ => english.to_string(),
    }
}

/// [`error`] for an [`AppError`].
pub fn app_error(lang: Lang, err: &AppError) -> String {
    error(lang, err.code(), &err.to_string())
}

/// Where the certificate is in the public transparency log, in a sentence (none when it is
/// missing: the verdict's reasons say so).
pub fn log_line(lang: Lang, position: &Position) -> Option<String> {
    let line = match position {
        Position::Missing => return None,
        Position::Pending => lang
            .pick(
                "正在记录到公开日志中（通常几秒钟）。",
                "Being recorded in the public log (usually a few seconds).",
            )
            .to_string(),
        Position::Sequenced(p) => match &p.confirmed {
            Some(c) => {
                let at = minute(&crate::domain::payload::rfc3339_seconds(c.at.and_utc()));
                match lang {
                    Lang::Zh => format!(
                        "已记录在公开日志中，第 {} 条，由{}于 {at} 确认。",
                        p.index, c.by
                    ),
                    Lang::En => format!(
                        "Recorded in the public log, entry {}, confirmed by {} at {at}.",
                        p.index, c.by
                    ),
                }
            }
            None => match lang {
                Lang::Zh => format!(
                    "已记录在公开日志中，第 {} 条（尚无监管见证确认）。",
                    p.index
                ),
                Lang::En => format!(
                    "Recorded in the public log, entry {} (not yet confirmed by a witness).",
                    p.index
                ),
            },
        },
    };
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_a_form_meets_reads_in_chinese() {
        for code in [
            "required",
            "invalid_date",
            "inspection_before_production",
            "expiry_before_production",
            "invalid_label",
            "forbidden",
            "rate_limited",
        ] {
            let zh = error(Lang::Zh, code, "english");
            assert!(!zh.is_ascii(), "{code}: {zh}");
            assert_eq!(error(Lang::En, code, "english"), "english");
        }
        assert_eq!(error(Lang::Zh, "no_such_code", "english"), "english");
    }
}
