//! Entry points for `fuzz/fuzz_targets/rfc2217*.rs` and the proptests: each asserts
//! invariants, not only the absence of panics.

use alloc::vec::Vec;

use crate::{
    Client, ClientConfig, ClientEvent, MAX_SUBNEGOTIATION, Server, ServerConfig, ServerEvent,
};

/// Cut points (sorted, within `len`) derived from a seed byte.
fn cuts(seed: u8, len: usize) -> Vec<usize> {
    let mut out = Vec::new();
    if len == 0 || seed == 0 {
        return out;
    }
    let step = usize::from(seed % 7) + 1;
    let mut at = usize::from(seed / 7) % len;
    while at < len {
        out.push(at);
        at += step;
    }
    out
}

fn chunks<'a>(data: &'a [u8], cut: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut from = 0;
    for &c in cut {
        if c > from && c <= data.len() {
            out.extend(data.get(from..c));
            from = c;
        }
    }
    out.extend(data.get(from..));
    out
}

/// Adjacent data events merged (chunking may split a run of data, nothing else).
fn merge_server(events: Vec<ServerEvent>) -> Vec<ServerEvent> {
    let mut out: Vec<ServerEvent> = Vec::new();
    for ev in events {
        match (out.last_mut(), ev) {
            (Some(ServerEvent::Data(a)), ServerEvent::Data(b)) => a.extend_from_slice(&b),
            (_, ev) => out.push(ev),
        }
    }
    out
}

fn merge_client(events: Vec<ClientEvent>) -> Vec<ClientEvent> {
    let mut out: Vec<ClientEvent> = Vec::new();
    for ev in events {
        match (out.last_mut(), ev) {
            (Some(ClientEvent::Data(a)), ClientEvent::Data(b)) => a.extend_from_slice(&b),
            (_, ev) => out.push(ev),
        }
    }
    out
}

fn feed_server(data: &[u8], cut: &[usize]) -> (Vec<ServerEvent>, Vec<u8>) {
    let mut s = Server::new(ServerConfig::default());
    let (mut events, mut out) = (Vec::new(), Vec::new());
    for chunk in chunks(data, cut) {
        s.handle_input(chunk);
        while let Some(ev) = s.poll_event() {
            events.push(ev);
        }
        s.poll_transmit(&mut out);
    }
    (merge_server(events), out)
}

fn feed_client(data: &[u8], cut: &[usize]) -> (Vec<ClientEvent>, Vec<u8>) {
    let mut c = Client::new(ClientConfig::new(115_200));
    let (mut events, mut out) = (Vec::new(), Vec::new());
    for chunk in chunks(data, cut) {
        c.handle_input(chunk);
        while let Some(ev) = c.poll_event() {
            events.push(ev);
        }
        c.poll_transmit(&mut out);
    }
    (merge_client(events), out)
}

/// Arbitrary network bytes into a server and a client: chunked input gives the same events
/// and the same replies as one-shot input, data never exceeds the input, and a signature is
/// never longer than the subnegotiation bound. `data[0]` picks the cuts.
pub fn decode(data: &[u8]) {
    let (seed, data) = match data.split_first() {
        Some((s, rest)) => (*s, rest),
        None => (0, data),
    };
    let cut = cuts(seed, data.len());
    let whole = feed_server(data, &[]);
    assert_eq!(whole, feed_server(data, &cut), "server: chunked differs");
    let data_len: usize = whole
        .0
        .iter()
        .map(|e| match e {
            ServerEvent::Data(d) => d.len(),
            _ => 0,
        })
        .sum();
    assert!(data_len <= data.len(), "server: more data out than in");
    let whole = feed_client(data, &[]);
    assert_eq!(whole, feed_client(data, &cut), "client: chunked differs");
    for e in &whole.0 {
        if let ClientEvent::Signature(s) = e {
            assert!(s.len() <= MAX_SUBNEGOTIATION);
        }
    }
}

/// What the client did, as the server must see it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    Data(Vec<u8>),
    Dtr(bool),
    Baud(u32),
}

fn ops(data: &[u8]) -> Vec<Op> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        match op % 8 {
            0 => out.push(Op::Dtr(false)),
            1 => out.push(Op::Dtr(true)),
            2 => {
                let (b, tail) = rest.split_at(rest.len().min(4));
                rest = tail;
                let mut v = [0u8; 4];
                for (d, s) in v.iter_mut().zip(b) {
                    *d = *s;
                }
                // 0 asks for the current rate; the server reports no change for it.
                out.push(Op::Baud(u32::from_be_bytes(v).max(1)));
            }
            n => {
                let (d, tail) = rest.split_at(rest.len().min(usize::from(n) * 3));
                rest = tail;
                if !d.is_empty() {
                    out.push(Op::Data(d.to_vec()));
                }
            }
        }
    }
    out
}

fn merge_ops(ops: Vec<Op>) -> Vec<Op> {
    let mut out: Vec<Op> = Vec::new();
    for op in ops {
        match (out.last_mut(), op) {
            (Some(Op::Data(a)), Op::Data(b)) => a.extend_from_slice(&b),
            (_, op) => out.push(op),
        }
    }
    out
}

/// A client and a server connected back to back: every data byte and every DTR and baud rate
/// change the client makes (some before the negotiation settles) reaches the server intact
/// and in order, whatever the chunking; the device's bytes reach the client intact.
/// `data[0]` picks the cuts, `data[1]` how many operations happen before the first exchange.
pub fn roundtrip(data: &[u8]) {
    let (ctl, data) = data.split_at(data.len().min(2));
    let seed = ctl.first().copied().unwrap_or(0);
    let early = usize::from(ctl.get(1).copied().unwrap_or(0) % 4);
    let ops = ops(data);
    let mut client = Client::new(ClientConfig::new(115_200));
    let mut server = Server::new(ServerConfig::default());
    let mut seen = Vec::new();
    let mut device_out = Vec::new();
    let mut wire = Vec::new();
    let apply = |c: &mut Client, op: &Op| match op {
        Op::Data(d) => c.send_data(d),
        Op::Dtr(on) => c.set_dtr(*on),
        Op::Baud(b) => c.set_baud(*b),
    };
    let (first, later) = ops.split_at(early.min(ops.len()));
    for op in first {
        apply(&mut client, op);
    }
    let mut pump =
        |client: &mut Client, server: &mut Server, seen: &mut Vec<Op>, rx: &mut Vec<u8>| {
            for _ in 0..8 {
                wire.clear();
                client.poll_transmit(&mut wire);
                let quiet = wire.is_empty();
                for chunk in chunks(&wire, &cuts(seed, wire.len())) {
                    server.handle_input(chunk);
                }
                while let Some(ev) = server.poll_event() {
                    match ev {
                        ServerEvent::Data(d) => seen.push(Op::Data(d)),
                        ServerEvent::Dtr(on) => seen.push(Op::Dtr(on)),
                        ServerEvent::Baud(b) => seen.push(Op::Baud(b)),
                        _ => {}
                    }
                }
                wire.clear();
                server.poll_transmit(&mut wire);
                if quiet && wire.is_empty() {
                    break;
                }
                client.handle_input(&wire);
                while let Some(ev) = client.poll_event() {
                    if let ClientEvent::Data(d) = ev {
                        rx.extend_from_slice(&d);
                    }
                }
            }
        };
    pump(&mut client, &mut server, &mut seen, &mut device_out);
    assert_eq!(client.com_port(), Some(true), "negotiation settles");
    for op in later {
        apply(&mut client, op);
    }
    server.send_data(data);
    pump(&mut client, &mut server, &mut seen, &mut device_out);
    // The server also sees the client's opening settings: baud 115200 and DTR on, first.
    let mut want = alloc::vec![Op::Baud(115_200), Op::Dtr(true)];
    want.extend(ops.iter().cloned());
    // Opening settings are queued before any operation, so they come first.
    assert_eq!(
        merge_ops(seen),
        merge_ops(want),
        "server saw the client's stream"
    );
    assert_eq!(device_out, data, "client saw the device's stream");
    assert_eq!(client.stats().dropped_subnegotiations, 0);
    assert_eq!(server.stats().dropped_subnegotiations, 0);
}
