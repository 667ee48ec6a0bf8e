//! The visitor's address behind reverse proxies (`PORTAL_TRUSTED_PROXIES`).
//!
//! The TCP peer is the client unless it is a trusted proxy. A trusted proxy
//! appends the address of its own peer to `X-Forwarded-For` (or to
//! `Forwarded: for=`), so the header is read from the right: every entry a
//! trusted proxy wrote about another trusted proxy is skipped, and the
//! first entry that is not trusted is the client. Entries to its left were
//! written by the client or by proxies nobody vouches for, and are never
//! believed. From a peer that is not trusted the headers are ignored
//! altogether.
//!
//! When both headers come, `X-Forwarded-For` is read: it is what nginx,
//! HAProxy (`option forwardfor`), Traefik, Caddy, Envoy and the cloud load
//! balancers write, and a client can add a `Forwarded` header of its own
//! that such a proxy passes on untouched. A proxy that writes only
//! `Forwarded` must drop an incoming `X-Forwarded-For` (README).

use std::{
    net::{IpAddr, SocketAddr},
    str::FromStr,
};

use axum::http::{HeaderMap, HeaderName, header};
use ipnet::IpNet;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(nets: Vec<IpNet>) -> Self {
        Self(nets)
    }

    /// `10.0.0.0/8, 192.168.1.10, ::1`: networks or single addresses,
    /// comma-separated. `Err` names the entry that is neither.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let net = IpNet::from_str(item)
                .map(|n| n.trunc())
                .or_else(|_| IpAddr::from_str(item).map(|ip| IpNet::from(ip.to_canonical())))
                .map_err(|_| {
                    format!("{item:?} is not an address or network (e.g. 10.0.0.0/8, 192.0.2.7 or fd00::/8)")
                })?;
            nets.push(net);
        }
        Ok(Self(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request that came from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        let chain = match forwarded_for(headers) {
            Some(chain) => chain,
            None => return peer,
        };
        // Walk from the nearest hop outwards. `nearest` is the last address
        // a trusted proxy vouched for: the answer if the chain runs out or
        // holds something that is not an address.
        let mut nearest = peer;
        for entry in chain.iter().rev() {
            match entry {
                Some(ip) if self.contains(*ip) => nearest = *ip,
                Some(ip) => return *ip,
                None => return nearest,
            }
        }
        nearest
    }
}

/// The client address of a request: see [`TrustedProxies::client`].
pub fn client_ip(
    trusted: &TrustedProxies,
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
) -> Option<IpAddr> {
    peer.map(|p| trusted.client(p.ip(), headers))
}

/// The forwarding chain, left (farthest) to right (nearest); `None` for an
/// entry that is not an address (`unknown`, an obfuscated name, garbage).
fn forwarded_for(headers: &HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    if headers.contains_key(X_FORWARDED_FOR) {
        let chain = joined(headers, &X_FORWARDED_FOR)
            .map(|entry| parse_node(entry.trim()))
            .collect();
        return Some(chain);
    }
    if headers.contains_key(header::FORWARDED) {
        let chain = joined(headers, &header::FORWARDED)
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| parse_node(v.trim()))
            })
            .collect();
        return Some(chain);
    }
    None
}

/// Every value of a header that may come several times, split at commas,
/// in order (several instances of a header read as one list, RFC 9110 §5.3).
fn joined<'a>(headers: &'a HeaderMap, name: &HeaderName) -> impl Iterator<Item = &'a str> {
    headers
        .get_all(name)
        .iter()
        // A value that is not visible ASCII cannot be believed in any part.
        .flat_map(|v| match v.to_str() {
            Ok(s) => s.split(',').collect::<Vec<_>>(),
            Err(_) => vec!["\u{0}"],
        })
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]:4711`, with
/// or without the quotes `Forwarded` puts around IPv6.
fn parse_node(text: &str) -> Option<IpAddr> {
    let text = text.trim_matches('"');
    if let Ok(ip) = IpAddr::from_str(text) {
        return Some(ip.to_canonical());
    }
    if let Ok(addr) = SocketAddr::from_str(text) {
        return Some(addr.ip().to_canonical());
    }
    // `[2001:db8::1]` without a port.
    text.strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .and_then(|t| IpAddr::from_str(t).ok())
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn trusted(text: &str) -> TrustedProxies {
        TrustedProxies::parse(text).unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let t = trusted("10.0.0.0/8");
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(t.client(ip("198.51.100.4"), &h), ip("198.51.100.4"));
        // Nothing is trusted by default.
        assert_eq!(
            TrustedProxies::default().client(ip("10.0.0.1"), &h),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn the_right_most_untrusted_entry_is_the_client() {
        let t = trusted("10.0.0.0/8");
        // The client forged the first entry; the proxy appended the real one.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9")]);
        assert_eq!(t.client(ip("10.0.0.2"), &h), ip("203.0.113.9"));
    }

    #[test]
    fn several_trusted_hops_are_skipped() {
        let t = trusted("10.0.0.0/8, 192.168.7.1");
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6, 203.0.113.9, 192.168.7.1"),
            ("x-forwarded-for", "10.1.1.1"),
        ]);
        assert_eq!(t.client(ip("10.0.0.2"), &h), ip("203.0.113.9"));
    }

    #[test]
    fn ipv6_clients_and_proxies() {
        let t = trusted("fd00::/8, ::1");
        let h = headers(&[("x-forwarded-for", "2001:db8::7, fd00::2")]);
        assert_eq!(t.client(ip("::1"), &h), ip("2001:db8::7"));
        let h = headers(&[("forwarded", r#"for="[2001:db8:cafe::17]:4711";proto=https"#)]);
        assert_eq!(t.client(ip("fd00::1"), &h), ip("2001:db8:cafe::17"));
        // An IPv4 peer seen through an IPv6 socket is still that IPv4 peer.
        let t = trusted("127.0.0.1");
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(t.client(ip("::ffff:127.0.0.1"), &h), ip("203.0.113.9"));
    }

    #[test]
    fn forwarded_for_is_read_when_there_is_no_x_forwarded_for() {
        let t = trusted("10.0.0.0/8");
        let h = headers(&[(
            "forwarded",
            "for=1.2.3.4, for=198.51.100.17;by=10.0.0.1, For=10.9.9.9",
        )]);
        assert_eq!(t.client(ip("10.0.0.2"), &h), ip("198.51.100.17"));
        let h = headers(&[
            ("forwarded", "for=1.2.3.4"),
            ("x-forwarded-for", "198.51.100.17"),
        ]);
        assert_eq!(t.client(ip("10.0.0.2"), &h), ip("198.51.100.17"));
    }

    #[test]
    fn ports_are_dropped() {
        let t = trusted("10.0.0.0/8");
        let h = headers(&[("x-forwarded-for", "203.0.113.9:51234")]);
        assert_eq!(t.client(ip("10.0.0.2"), &h), ip("203.0.113.9"));
    }

    #[test]
    fn what_is_not_an_address_stops_at_the_last_trusted_hop() {
        let t = trusted("10.0.0.0/8");
        for bad in ["unknown", "_hidden", "", "300.1.1.1"] {
            let h = headers(&[("x-forwarded-for", &format!("1.2.3.4, {bad}, 10.5.5.5"))]);
            assert_eq!(t.client(ip("10.0.0.2"), &h), ip("10.5.5.5"), "{bad:?}");
        }
        // Every hop trusted: the farthest one is the best known.
        let h = headers(&[("x-forwarded-for", "10.3.3.3, 10.5.5.5")]);
        assert_eq!(t.client(ip("10.0.0.2"), &h), ip("10.3.3.3"));
        // A trusted peer that forwards nothing is the client.
        assert_eq!(t.client(ip("10.0.0.2"), &HeaderMap::new()), ip("10.0.0.2"));
    }

    #[test]
    fn the_setting_takes_networks_and_single_addresses() {
        let t = trusted(" 10.0.0.0/8 , 192.0.2.7,fd00::/8,::1 ");
        assert!(t.contains(ip("10.200.0.1")));
        assert!(t.contains(ip("192.0.2.7")));
        assert!(!t.contains(ip("192.0.2.8")));
        assert!(t.contains(ip("fd00::1:2")));
        assert!(t.contains(ip("::1")));
        // Host bits are forgiven: 10.1.2.3/8 means 10.0.0.0/8.
        assert!(trusted("10.1.2.3/8").contains(ip("10.9.9.9")));
        for bad in ["10.0.0.0/33", "example.com", "10.0.0"] {
            assert!(TrustedProxies::parse(bad).is_err(), "{bad}");
        }
        assert!(TrustedProxies::parse("").unwrap().is_empty());
    }
}
