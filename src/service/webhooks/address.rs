//! Which addresses webhooks may be sent to: only those that are clearly public. An IPv6
//! address that carries an IPv4 one (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
//! `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:aabb:ccdd::`, Teredo `2001:0::`) is judged
//! by the IPv4 address it leads to; other IPv6 addresses must be global unicast (`2000::/3`)
//! outside the special-purpose blocks. What an endpoint's name resolved to is never told back:
//! the organization sees only [`NOT_PUBLIC`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

/// The one answer for an endpoint refused here (its `last_error`), whatever the name resolved
/// to or whether it resolved at all: the delivery log is no window on the internal DNS.
pub const NOT_PUBLIC: &str = "not a public address";

/// IPv4 blocks that are not public (RFC 6890 and its updates): "this network", private,
/// shared (100.64/10), loopback, link-local, IETF protocol assignments, documentation, the
/// retired 6to4 relay anycast, benchmarking, multicast and reserved (with broadcast).
const V4_NOT_PUBLIC: [(u32, u8); 15] = [
    (0x0000_0000, 8),  // 0.0.0.0/8
    (0x0a00_0000, 8),  // 10.0.0.0/8
    (0x6440_0000, 10), // 100.64.0.0/10
    (0x7f00_0000, 8),  // 127.0.0.0/8
    (0xa9fe_0000, 16), // 169.254.0.0/16
    (0xac10_0000, 12), // 172.16.0.0/12
    (0xc000_0000, 24), // 192.0.0.0/24
    (0xc000_0200, 24), // 192.0.2.0/24
    (0xc058_6300, 24), // 192.88.99.0/24
    (0xc0a8_0000, 16), // 192.168.0.0/16
    (0xc612_0000, 15), // 198.18.0.0/15
    (0xc633_6400, 24), // 198.51.100.0/24
    (0xcb00_7100, 24), // 203.0.113.0/24
    (0xe000_0000, 4),  // 224.0.0.0/4
    (0xf000_0000, 4),  // 240.0.0.0/4, 255.255.255.255 included
];

/// Special-purpose blocks inside `2000::/3` that are not public: IETF protocol assignments
/// (Teredo, `2001::/32`, is judged by its IPv4 addresses before this), documentation
/// (`2001:db8::/32`, `3fff::/20`).
const V6_NOT_PUBLIC: [(u128, u8); 3] = [
    (0x2001_0000 << 96, 23),
    (0x2001_0db8 << 96, 32),
    (0x3fff << 112, 20),
];

fn in_block(bits: u128, width: u32, (net, len): (u128, u8)) -> bool {
    let len = u32::from(len);
    len == 0 || bits >> (width - len) == net >> (width - len)
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let bits = u128::from(u32::from(ip));
    !V4_NOT_PUBLIC
        .iter()
        .any(|&(net, len)| in_block(bits, 32, (u128::from(net), len)))
}

/// The IPv4 addresses `ip` leads to when it is one of the forms carrying them, `None` when
/// it is a plain IPv6 address, `Some(empty)` when it is a form whose embedding cannot be
/// known (the local-use NAT64 prefix `64:ff9b:1::/48`: each network picks its own layout).
fn embedded_v4(ip: Ipv6Addr) -> Option<Vec<Ipv4Addr>> {
    let bits = u128::from(ip);
    let low32 = Ipv4Addr::from(bits as u32);
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if bits >> 32 == 0xffff || bits >> 32 == 0 {
        // IPv4-mapped ::ffff:a.b.c.d; IPv4-compatible ::a.b.c.d (:: and ::1 included, which
        // land in 0.0.0.0/8 and are refused).
        Some(vec![low32])
    } else if bits >> 32 == 0x0064_ff9b << 64 {
        Some(vec![low32]) // NAT64, the well-known prefix 64:ff9b::/96
    } else if in_block(bits, 128, (0x0064_ff9b_0001 << 80, 48)) {
        Some(vec![])
    } else if s[0] == 0x2002 {
        Some(vec![v4(s[1], s[2])]) // 6to4: 2002:aabb:ccdd::/48
    } else if s[0] == 0x2001 && s[1] == 0 {
        // Teredo: the server's address, then the client's, its bits inverted.
        Some(vec![v4(s[2], s[3]), v4(!s[6], !s[7])])
    } else {
        None
    }
}

/// Whether `ip` is clearly a public address, one a webhook may be sent to.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4s) => !v4s.is_empty() && v4s.into_iter().all(is_public_v4),
            None => {
                let bits = u128::from(v6);
                in_block(bits, 128, (1 << 125, 3))
                    && !V6_NOT_PUBLIC.iter().any(|&b| in_block(bits, 128, b))
            }
        },
    }
}

/// Refuses a URL whose host does not resolve, or resolves to anything but public addresses
/// ([`is_public`]), with [`NOT_PUBLIC`] and nothing more. The name is resolved again when
/// connecting, so a name that changes its answer in between (DNS rebinding) is not caught.
pub fn public_only(url: &str) -> Result<(), &'static str> {
    let parsed = url::Url::parse(url).map_err(|_| NOT_PUBLIC)?;
    let host = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => return is_public(ip.into()).then_some(()).ok_or(NOT_PUBLIC),
        Some(url::Host::Ipv6(ip)) => return is_public(ip.into()).then_some(()).ok_or(NOT_PUBLIC),
        Some(url::Host::Domain(name)) => name,
        None => return Err(NOT_PUBLIC),
    };
    let port = parsed.port_or_known_default().unwrap_or(443);
    let mut addrs = (host, port)
        .to_socket_addrs()
        .map_err(|_| NOT_PUBLIC)?
        .peekable();
    match addrs.peek().is_some() && addrs.all(|a| is_public(a.ip())) {
        true => Ok(()),
        false => Err(NOT_PUBLIC),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(ip: &str) -> bool {
        is_public(ip.parse().unwrap())
    }

    #[test]
    fn ipv4_blocks_that_are_not_public_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.1.1",
            "198.18.0.1",
            "0.1.2.3",
            "192.0.0.8",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "192.88.99.1",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!public(ip), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "100.128.0.1",
            "198.20.0.1",
            "172.32.0.1",
            "1.1.1.1",
        ] {
            assert!(public(ip), "{ip}");
        }
    }

    #[test]
    fn ipv6_outside_global_unicast_or_special_is_refused() {
        for ip in [
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "100::1",
            "2001:db8::1",
            "2001:2::1",
            "2001:10::1",
            "3fff::1",
            "::ffff:0:7f00:1", // SIIT, outside 2000::/3
        ] {
            assert!(!public(ip), "{ip}");
        }
        assert!(public("2606:4700:4700::1111"));
        assert!(public("2a00:1450:4001:80b::200e"));
    }

    #[test]
    fn ipv4_mapped_forms_are_judged_by_their_ipv4_address() {
        assert!(!public("::ffff:127.0.0.1"));
        assert!(!public("::ffff:169.254.169.254"));
        assert!(public("::ffff:8.8.8.8"));
    }

    #[test]
    fn ipv4_compatible_forms_are_judged_by_their_ipv4_address() {
        assert!(!public("::127.0.0.1"));
        assert!(!public("::10.0.0.1"));
        assert!(!public("::169.254.169.254"));
    }

    #[test]
    fn nat64_forms_are_judged_by_their_ipv4_address() {
        assert!(!public("64:ff9b::7f00:1"));
        assert!(!public("64:ff9b::10.0.0.1"));
        assert!(!public("64:ff9b::169.254.169.254"));
        assert!(public("64:ff9b::8.8.8.8"));
        // The local-use prefix: where the IPv4 address sits is each network's choice.
        assert!(!public("64:ff9b:1::7f00:1"));
        assert!(!public("64:ff9b:1:7f00:1::"));
        assert!(!public("64:ff9b:1::808:808"));
    }

    #[test]
    fn six_to_four_forms_are_judged_by_their_ipv4_address() {
        assert!(!public("2002:7f00:1::1"));
        assert!(!public("2002:a00:1::"));
        assert!(!public("2002:a9fe:a9fe::1"));
        assert!(public("2002:808:808::1"));
    }

    #[test]
    fn teredo_forms_are_judged_by_both_ipv4_addresses() {
        // Server 8.8.8.8, client 127.0.0.1 (stored inverted: 80ff:fffe).
        assert!(!public("2001:0:808:808:0:0:80ff:fffe"));
        // Server 10.0.0.1, client 8.8.8.8 (f7f7:f7f7).
        assert!(!public("2001:0:a00:1:0:0:f7f7:f7f7"));
        // Both public.
        assert!(public("2001:0:808:808:0:0:f7f7:f7f7"));
    }

    #[test]
    fn urls_are_refused_without_telling_the_address() {
        for url in [
            "http://127.0.0.1:9/x",
            "http://10.1.2.3/x",
            "http://[::1]:8080/",
            "http://169.254.169.254/latest",
            "http://[::ffff:127.0.0.1]/",
            "http://[::127.0.0.1]/",
            "http://[64:ff9b::7f00:1]/",
            "http://[2002:7f00:1::1]/",
            "http://localhost:8080/",
            "http://name.invalid/",
        ] {
            assert_eq!(public_only(url), Err(NOT_PUBLIC), "{url}");
        }
        assert!(public_only("https://8.8.8.8/hook").is_ok());
        assert!(public_only("https://[64:ff9b::8.8.8.8]/hook").is_ok());
        assert!(public_only("https://100.128.0.1/hook").is_ok());
    }
}
