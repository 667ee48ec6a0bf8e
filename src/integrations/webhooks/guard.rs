//! No request to private addresses on a partner's behalf: an endpoint
//! whose host is, or resolves to, a private, loopback, link-local or
//! otherwise non-public address is refused at registration, and again at
//! every delivery, where the addresses the name resolved to are the ones
//! connected to (a name that changes its answer between the check and the
//! connection, DNS rebinding, gets nowhere). Loopback, over http too, is
//! allowed only with `PORTAL_WEBHOOK_ALLOW_LOOPBACK=true`, for local
//! development and tests.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether a connection to `ip` may be made for a partner.
pub fn allowed(ip: IpAddr, allow_loopback: bool) -> bool {
    match ip {
        IpAddr::V4(v4) => allowed_v4(v4, allow_loopback),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return allowed_v4(v4, allow_loopback);
            }
            if v6.is_loopback() {
                return allow_loopback;
            }
            let first = v6.segments()[0];
            !(v6.is_unspecified()
                || v6.is_multicast()
                // fc00::/7 unique local, fe80::/10 link-local
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                // 2001:db8::/32 documentation, 100::/64 discard
                || (first == 0x2001 && v6.segments()[1] == 0x0db8)
                || (first == 0x0100 && v6.segments()[1..4] == [0, 0, 0])
                // 64:ff9b::/96 NAT64: the embedded IPv4 address decides
                || (v6.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
                    && !allowed_v4(embedded_v4(v6), allow_loopback)))
        }
    }
}

/// The IPv4 address in the last 32 bits of `v6`.
fn embedded_v4(v6: Ipv6Addr) -> Ipv4Addr {
    let [.., hi, lo] = v6.segments();
    Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)
}

fn allowed_v4(ip: Ipv4Addr, allow_loopback: bool) -> bool {
    if ip.is_loopback() {
        return allow_loopback;
    }
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // 100.64.0.0/10 shared address space (carrier-grade NAT)
        || (a == 100 && (64..128).contains(&b))
        // 192.0.0.0/24 protocol assignments, 198.18.0.0/15 benchmarking
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        // 240.0.0.0/4 reserved
        || a >= 240)
}

/// A name that resolved to an address the portal will not connect to.
#[derive(Debug, thiserror::Error)]
#[error("{0} is not a public address")]
pub struct NotPublic(pub IpAddr);

/// Resolves a name, refusing it whole if any address is not public: what
/// the connection uses is exactly what was checked.
#[derive(Debug, Clone, Copy)]
pub struct PublicOnly {
    pub allow_loopback: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_loopback = self.allow_loopback;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if let Some(bad) = addrs.iter().find(|a| !allowed(a.ip(), allow_loopback)) {
                return Err(Box::new(NotPublic(bad.ip())) as Box<_>);
            }
            if addrs.is_empty() {
                return Err(format!("{} has no address", name.as_str()).into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The address of `host` if it is written as one (IP literals are not
/// resolved, so they are checked here).
pub fn literal(host: &url::Host<&str>) -> Option<IpAddr> {
    match host {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(*v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(*v6)),
        url::Host::Domain(_) => None,
    }
}

/// Whether `error` (a failed request) was this guard's refusal.
pub fn refused_by_guard(error: &(dyn std::error::Error + 'static)) -> Option<IpAddr> {
    let mut source = Some(error);
    while let Some(e) = source {
        if let Some(NotPublic(ip)) = e.downcast_ref::<NotPublic>() {
            return Some(*ip);
        }
        source = e.source();
    }
    None
}

/// The client deliveries are made with: no redirects, short timeouts, and
/// names resolved through [`PublicOnly`].
pub fn client(allow_loopback: bool, user_agent: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(user_agent)
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(PublicOnly { allow_loopback }))
        .build()
        .expect("the delivery client builds")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn private_loopback_and_link_local_addresses_are_refused() {
        for bad in [
            "10.0.0.1",
            "172.16.5.4",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "192.0.2.10",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "100::1",
            "100::ffff:ffff:ffff:ffff",
        ] {
            assert!(!allowed(ip(bad), false), "{bad}");
        }
        for bad in ["10.0.0.1", "::ffff:192.168.0.1", "169.254.169.254"] {
            assert!(!allowed(ip(bad), true), "{bad} even with loopback allowed");
        }
    }

    #[test]
    fn loopback_only_when_allowed() {
        for lo in ["127.0.0.1", "127.1.2.3", "::1"] {
            assert!(!allowed(ip(lo), false), "{lo}");
            assert!(allowed(ip(lo), true), "{lo}");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for good in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "64:ff9b::808:808",
            // Just outside 100::/64 (discard) and 2001:db8::/32 (documentation).
            "100:0:0:1::1",
            "101::1",
            "2001:db9::1",
            "2002:db8::1",
            // The last 32 bits read as 10.0.0.1, but only NAT64 embeds IPv4.
            "2606:4700::a00:1",
            "64:ff9c::a00:1",
        ] {
            assert!(allowed(ip(good), false), "{good}");
        }
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_unless_allowed() {
        let refused = PublicOnly {
            allow_loopback: false,
        }
        .resolve("localhost".parse().unwrap())
        .await;
        assert!(refused.is_err());
        let allowed = PublicOnly {
            allow_loopback: true,
        }
        .resolve("localhost".parse().unwrap())
        .await;
        assert!(allowed.is_ok());
    }
}
