//! Administrative division codes (GB/T 2260): six digits whose first two name a province and
//! first four a prefecture; the known provinces and prefectures are listed here.

use super::ValidationError;

/// Province-level prefixes in use (GB/T 2260).
const PROVINCES: &[&str] = &[
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82",
];

/// The prefecture-level prefixes (first four digits) in GB/T 2260 as the Ministry of Civil
/// Affairs lists it (revision 2019-04): prefectures, leagues, autonomous prefectures, the
/// districts and counties of the four municipalities, and the `xx90` groups of counties
/// governed by a province directly. Sorted.
const PREFECTURES: [u16; 343] = [
    1101, 1201, 1301, 1302, 1303, 1304, 1305, 1306, 1307, 1308, 1309, 1310, 1311, 1401, 1402, 1403,
    1404, 1405, 1406, 1407, 1408, 1409, 1410, 1411, 1501, 1502, 1503, 1504, 1505, 1506, 1507, 1508,
    1509, 1522, 1525, 1529, 2101, 2102, 2103, 2104, 2105, 2106, 2107, 2108, 2109, 2110, 2111, 2112,
    2113, 2114, 2201, 2202, 2203, 2204, 2205, 2206, 2207, 2208, 2224, 2301, 2302, 2303, 2304, 2305,
    2306, 2307, 2308, 2309, 2310, 2311, 2312, 2327, 3101, 3201, 3202, 3203, 3204, 3205, 3206, 3207,
    3208, 3209, 3210, 3211, 3212, 3213, 3301, 3302, 3303, 3304, 3305, 3306, 3307, 3308, 3309, 3310,
    3311, 3401, 3402, 3403, 3404, 3405, 3406, 3407, 3408, 3410, 3411, 3412, 3413, 3415, 3416, 3417,
    3418, 3501, 3502, 3503, 3504, 3505, 3506, 3507, 3508, 3509, 3601, 3602, 3603, 3604, 3605, 3606,
    3607, 3608, 3609, 3610, 3611, 3701, 3702, 3703, 3704, 3705, 3706, 3707, 3708, 3709, 3710, 3711,
    3712, 3713, 3714, 3715, 3716, 3717, 4101, 4102, 4103, 4104, 4105, 4106, 4107, 4108, 4109, 4110,
    4111, 4112, 4113, 4114, 4115, 4116, 4117, 4190, 4201, 4202, 4203, 4205, 4206, 4207, 4208, 4209,
    4210, 4211, 4212, 4213, 4228, 4290, 4301, 4302, 4303, 4304, 4305, 4306, 4307, 4308, 4309, 4310,
    4311, 4312, 4313, 4331, 4401, 4402, 4403, 4404, 4405, 4406, 4407, 4408, 4409, 4412, 4413, 4414,
    4415, 4416, 4417, 4418, 4419, 4420, 4451, 4452, 4453, 4501, 4502, 4503, 4504, 4505, 4506, 4507,
    4508, 4509, 4510, 4511, 4512, 4513, 4514, 4601, 4602, 4603, 4604, 4690, 5001, 5002, 5101, 5103,
    5104, 5105, 5106, 5107, 5108, 5109, 5110, 5111, 5113, 5114, 5115, 5116, 5117, 5118, 5119, 5120,
    5132, 5133, 5134, 5201, 5202, 5203, 5204, 5205, 5206, 5223, 5226, 5227, 5301, 5303, 5304, 5305,
    5306, 5307, 5308, 5309, 5323, 5325, 5326, 5328, 5329, 5331, 5333, 5334, 5401, 5402, 5403, 5404,
    5405, 5406, 5425, 6101, 6102, 6103, 6104, 6105, 6106, 6107, 6108, 6109, 6110, 6201, 6202, 6203,
    6204, 6205, 6206, 6207, 6208, 6209, 6210, 6211, 6212, 6229, 6230, 6301, 6302, 6322, 6323, 6325,
    6326, 6327, 6328, 6401, 6402, 6403, 6404, 6405, 6501, 6502, 6504, 6505, 6523, 6527, 6528, 6529,
    6530, 6531, 6532, 6540, 6542, 6543, 6590,
];

super::request::named_schema!(
    /// A region code as [`parse`] accepts it, for the OpenAPI document: six digits beginning
    /// with a province's two.
    RegionCode = schema()
);

/// The schema of [`RegionCode`].
pub fn schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some(format!("^{}$", pattern())))
        .build()
}

/// The regular expression (unanchored) of a region code [`parse`] accepts.
pub fn pattern() -> String {
    format!("(?:{})[0-9]{{4}}", PROVINCES.join("|"))
}

/// Checks a six-digit region code with a known province prefix; returns it trimmed.
pub fn parse(field: &str, input: &str) -> Result<String, ValidationError> {
    let code = input.trim();
    let ok = code.len() == 6
        && code.bytes().all(|b| b.is_ascii_digit())
        && PROVINCES.contains(&&code[..2]);
    if ok {
        Ok(code.to_string())
    } else {
        Err(ValidationError::new(
            "invalid_region_code",
            field,
            "region_code must be a 6-digit GB/T 2260 division code such as 430700",
        ))
    }
}

/// A region code as a consumer scan keeps it: the prefecture (`430700` for the county
/// `430702`), or the province for a province-level code (`110000`). `None` for anything else:
/// malformed, or an unknown province or prefecture. A scanner's code is never an error (the
/// scan answer does not depend on it); an unusable one is no region.
pub fn scan_region(input: &str) -> Option<String> {
    let code = parse("region", input).ok()?;
    if &code[2..4] == "00" {
        return Some(format!("{}0000", &code[..2]));
    }
    let prefecture: u16 = code[..4].parse().ok()?;
    PREFECTURES
        .binary_search(&prefecture)
        .is_ok()
        .then(|| format!("{prefecture}00"))
}

/// Every prefecture-level code (`110100`, `120100`, … `659000`).
pub fn prefecture_codes() -> impl Iterator<Item = String> {
    PREFECTURES.iter().map(|p| format!("{p}00"))
}

/// Whether `region` lies inside `jurisdiction`: `430000` covers the province, `430700` the
/// prefecture, `430702` only itself (trailing `00` pairs are wildcards).
pub fn within(jurisdiction: &str, region: &str) -> bool {
    region.starts_with(prefix(jurisdiction))
}

/// The leading digits every region inside `jurisdiction` starts with (`430700` → `4307`).
pub fn prefix(jurisdiction: &str) -> &str {
    let mut prefix = jurisdiction;
    for _ in 0..2 {
        prefix = prefix.strip_suffix("00").unwrap_or(prefix);
    }
    prefix
}

/// The province part (first two digits) of a region code.
pub fn province(region: &str) -> &str {
    region.get(..2).unwrap_or(region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jurisdiction() {
        assert!(
            within("430700", "430702") && within("430000", "430725") && within("430702", "430702")
        );
        assert!(
            !within("430700", "430100")
                && !within("430702", "430703")
                && !within("440000", "430702")
        );
        assert_eq!(province("430702"), "43");
    }

    #[test]
    fn region_codes() {
        assert_eq!(parse("r", "430700").unwrap(), "430700");
        assert_eq!(parse("r", "110000").unwrap(), "110000");
        for bad in ["", "43070", "4307000", "99ABCD", "990000", "43o700"] {
            assert_eq!(
                parse("r", bad).unwrap_err().code,
                "invalid_region_code",
                "{bad}"
            );
        }
    }

    #[test]
    fn scan_regions_are_known_prefectures_or_provinces() {
        assert!(PREFECTURES.windows(2).all(|w| w[0] < w[1]), "sorted");
        assert_eq!(scan_region("430702").as_deref(), Some("430700"));
        assert_eq!(scan_region("430700").as_deref(), Some("430700"));
        assert_eq!(scan_region("110105").as_deref(), Some("110100"));
        assert_eq!(scan_region("110000").as_deref(), Some("110000"));
        assert_eq!(scan_region("429004").as_deref(), Some("429000"));
        assert_eq!(scan_region("810000").as_deref(), Some("810000"));
        // Well-formed, known province, no such prefecture; malformed; unknown province.
        for bad in [
            "439900",
            "4307020",
            "43070",
            "",
            "990100",
            "43o702",
            "４３０７０２",
        ] {
            assert_eq!(scan_region(bad), None, "{bad}");
        }
        let all: Vec<String> = prefecture_codes().collect();
        assert_eq!(all.len(), PREFECTURES.len());
        assert!(all.iter().all(|c| scan_region(c).as_ref() == Some(c)));
        assert!(all.contains(&"430700".to_string()) && all.contains(&"659000".to_string()));
    }
}
