//! Reverse proxies the service believes about who is asking.
//!
//! ducha usually runs behind an https reverse proxy (nginx, a government cloud's load
//! balancer). Every request then comes from the proxy's address, so the sign-in limit per
//! address would count everyone as one client: thirty bad passwords from anyone would shut
//! everyone out. A proxy listed in `trusted_proxies` says who it forwards in
//! `Forwarded` (RFC 7239) or `X-Forwarded-For`; those headers are believed only from such a
//! proxy, since any client can write them.

use std::net::IpAddr;

use poem::http::HeaderMap;

/// Addresses and networks (`10.0.0.0/8`, `::1`) whose forwarding header is believed, and
/// which header that is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<(IpAddr, u8)>,
    header: ForwardedHeader,
}

/// The one header the proxies write. Only that one is read: a proxy appends to its own
/// header but passes the other through as the client wrote it, so reading whichever is
/// present would let a client name its own address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For` (nginx's `proxy_add_x_forwarded_for`, most load balancers).
    #[default]
    XForwardedFor,
    /// `Forwarded` (RFC 7239).
    Forwarded,
}

impl ForwardedHeader {
    pub fn parse(text: &str) -> Option<ForwardedHeader> {
        match text.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Some(ForwardedHeader::XForwardedFor),
            "forwarded" => Some(ForwardedHeader::Forwarded),
            _ => None,
        }
    }
}

impl TrustedProxies {
    /// A comma-separated list of addresses and CIDR networks; an error names the bad one.
    pub fn parse(text: &str) -> Result<TrustedProxies, String> {
        Self::parse_with(text, ForwardedHeader::default())
    }

    /// As [`TrustedProxies::parse`], believing `header`.
    pub fn parse_with(text: &str, header: ForwardedHeader) -> Result<TrustedProxies, String> {
        let mut networks = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (address, bits) = match part.split_once('/') {
                Some((address, bits)) => (address, Some(bits)),
                None => (part, None),
            };
            let address: IpAddr = address
                .parse()
                .map_err(|_| format!("trusted proxy `{part}` is not an address or network"))?;
            let max = if address.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                None => max,
                Some(bits) => bits
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| format!("trusted proxy `{part}` has a bad prefix length"))?,
            };
            // An IPv4 network written as mapped IPv6 (`::ffff:10.0.0.0/104`) is that IPv4
            // network: peers are compared as IPv4.
            let network = match address {
                IpAddr::V6(v6) if bits >= 96 => v6
                    .to_ipv4_mapped()
                    .map_or((address, bits), |v4| (IpAddr::V4(v4), bits - 96)),
                _ => (address, bits),
            };
            networks.push(network);
        }
        Ok(TrustedProxies { networks, header })
    }

    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    /// The header these proxies write.
    pub fn header(&self) -> ForwardedHeader {
        self.header
    }

    /// Whether `address` is one of the trusted proxies.
    pub fn trusts(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.networks
            .iter()
            .any(|(network, bits)| match (*network, address) {
                (IpAddr::V4(n), IpAddr::V4(a)) => prefix_matches(&n.octets(), &a.octets(), *bits),
                (IpAddr::V6(n), IpAddr::V6(a)) => prefix_matches(&n.octets(), &a.octets(), *bits),
                _ => false,
            })
    }
}

/// An IPv4 address mapped into IPv6 (`::ffff:10.0.0.1`, as a dual-stack socket reports it)
/// is that IPv4 address.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

fn prefix_matches(network: &[u8], address: &[u8], bits: u8) -> bool {
    let bits = usize::from(bits);
    let whole = bits / 8;
    if network[..whole] != address[..whole] {
        return false;
    }
    let rest = bits % 8;
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    network[whole] & mask == address[whole] & mask
}

/// The client addresses a request's forwarding header names, nearest the client first: the
/// one header the proxies write (`Forwarded`'s `for=`, or `X-Forwarded-For`), never the
/// other. Names that are not addresses (`unknown`, obfuscated identifiers) are skipped.
pub fn forwarded_chain(headers: &HeaderMap, header: ForwardedHeader) -> Vec<IpAddr> {
    if header == ForwardedHeader::XForwardedFor {
        return headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|hop| node_address(hop.trim()))
            .collect();
    }
    headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (key, value) = pair.trim().split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| node_address(value.trim().trim_matches('"')))
                    .flatten()
            })
        })
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711`, `2001:db8::1`.
fn node_address(node: &str) -> Option<IpAddr> {
    if let Ok(address) = node.parse() {
        return Some(address);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    node.rsplit_once(':')?.0.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn networks_and_single_addresses_are_trusted_and_nothing_else() {
        let proxies =
            TrustedProxies::parse("10.0.0.0/8, 192.168.1.7, ::1, fd00::/8").expect("parses");
        assert!(proxies.trusts(ip("10.200.3.4")));
        assert!(
            proxies.trusts(ip("::ffff:10.1.1.1")),
            "IPv4 mapped into IPv6"
        );
        assert!(proxies.trusts(ip("192.168.1.7")));
        assert!(!proxies.trusts(ip("192.168.1.8")));
        assert!(proxies.trusts(ip("::1")));
        assert!(proxies.trusts(ip("fd12::5")));
        assert!(!proxies.trusts(ip("11.0.0.1")));
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.local").is_err());
        assert!(TrustedProxies::parse("").expect("empty").is_empty());
        let mapped = TrustedProxies::parse("::ffff:10.0.0.0/104").expect("parses");
        assert!(mapped.trusts(ip("10.9.9.9")) && mapped.trusts(ip("::ffff:10.9.9.9")));
        assert!(!mapped.trusts(ip("11.0.0.1")));
    }

    #[test]
    fn only_the_header_the_proxies_write_is_read() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 10.0.0.2".parse().expect("value"),
        );
        assert_eq!(
            forwarded_chain(&headers, ForwardedHeader::XForwardedFor),
            vec![ip("203.0.113.9"), ip("10.0.0.2")]
        );
        assert!(
            forwarded_chain(&headers, ForwardedHeader::Forwarded).is_empty(),
            "X-Forwarded-For is not read for a proxy that writes Forwarded"
        );
        headers.insert(
            "forwarded",
            "for=\"[2001:db8::7]:4711\";proto=https, for=198.51.100.4:80, for=unknown"
                .parse()
                .expect("value"),
        );
        assert_eq!(
            forwarded_chain(&headers, ForwardedHeader::Forwarded),
            vec![ip("2001:db8::7"), ip("198.51.100.4")]
        );
        assert_eq!(
            forwarded_chain(&headers, ForwardedHeader::XForwardedFor),
            vec![ip("203.0.113.9"), ip("10.0.0.2")],
            "a client's own Forwarded is not read for a proxy that writes X-Forwarded-For"
        );
    }
}
