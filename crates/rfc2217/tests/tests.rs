//! at-rfc2217: table tests of the wire format (RFC 2217 examples, partial input, hostile
//! input) and proptests running the fuzzing entry points.

use at_rfc2217::telnet::{DO, DONT, IAC, SB, SE, WILL, WONT};
use at_rfc2217::{Client, ClientConfig, ClientEvent, Server, ServerConfig, ServerEvent, fuzzing};
use proptest::prelude::*;

const COM: u8 = 44;

fn server_events(s: &mut Server) -> Vec<ServerEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn client_events(c: &mut Client) -> Vec<ClientEvent> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

fn tx_server(s: &mut Server) -> Vec<u8> {
    let mut v = Vec::new();
    s.poll_transmit(&mut v);
    v
}

fn tx_client(c: &mut Client) -> Vec<u8> {
    let mut v = Vec::new();
    c.poll_transmit(&mut v);
    v
}

#[test]
fn client_opens_with_com_port_binary_and_sga_requests() {
    let mut c = Client::new(ClientConfig::new(9600));
    assert_eq!(
        tx_client(&mut c),
        [
            IAC, WILL, COM, IAC, WILL, 0, IAC, DO, 0, IAC, WILL, 3, IAC, DO, 3
        ]
    );
    assert_eq!(c.com_port(), None);
    // The server agrees to COM port control: the settings go out, 9600 8N1, no flow, DTR on.
    c.handle_input(&[IAC, DO, COM]);
    assert_eq!(client_events(&mut c), [ClientEvent::ComPort(true)]);
    assert_eq!(
        tx_client(&mut c),
        [
            IAC, SB, COM, 1, 0, 0, 0x25, 0x80, IAC, SE, // SET-BAUDRATE 9600
            IAC, SB, COM, 2, 8, IAC, SE, // SET-DATASIZE 8
            IAC, SB, COM, 3, 1, IAC, SE, // SET-PARITY none
            IAC, SB, COM, 4, 1, IAC, SE, // SET-STOPSIZE 1
            IAC, SB, COM, 5, 1, IAC, SE, // SET-CONTROL no flow control
            IAC, SB, COM, 5, 8, IAC, SE, // SET-CONTROL DTR on
        ]
    );
    // Answers, cut anywhere (here inside the subnegotiation and inside the value).
    c.handle_input(&[IAC, SB, COM, 101, 0, 0]);
    c.handle_input(&[0x25]);
    c.handle_input(&[0x80, IAC]);
    c.handle_input(&[SE, IAC, SB, COM, 105, 8, IAC, SE]);
    assert_eq!(
        client_events(&mut c),
        [ClientEvent::Baud(9600), ClientEvent::Control(8)]
    );
    assert_eq!((c.baud(), c.dtr()), (Some(9600), Some(true)));
}

#[test]
fn a_refusing_server_ends_the_negotiation_and_drops_commands() {
    let mut c = Client::new(ClientConfig::new(115_200));
    tx_client(&mut c);
    c.set_dtr(false);
    c.handle_input(&[IAC, DONT, COM]);
    assert_eq!(client_events(&mut c), [ClientEvent::ComPort(false)]);
    assert_eq!(c.com_port(), Some(false));
    // No subnegotiation is ever sent.
    assert!(!tx_client(&mut c).contains(&SB));
}

#[test]
fn data_is_escaped_and_held_until_binary_is_answered() {
    let mut c = Client::new(ClientConfig::new(115_200));
    tx_client(&mut c);
    c.send_data(b"AT\r");
    // Our WILL BINARY is unanswered: nothing goes out yet.
    assert!(!c.has_transmit());
    c.handle_input(&[IAC, DO, 0]);
    // The settings (queued first) still wait for COM port control, and the data after them.
    assert!(!c.has_transmit());
    c.handle_input(&[IAC, DO, COM]);
    let out = tx_client(&mut c);
    assert!(out.starts_with(&[IAC, SB, COM, 1]), "{out:?}");
    assert!(out.ends_with(&[IAC, SE, b'A', b'T', b'\r']), "{out:?}");
    c.send_data(&[0xff, b'x']);
    assert_eq!(tx_client(&mut c), [0xff, 0xff, b'x']);
    // A peer that refuses binary: CR is padded with NUL (RFC 854).
    let mut c = Client::new(ClientConfig::new(115_200));
    tx_client(&mut c);
    c.handle_input(&[IAC, DONT, 0, IAC, DO, COM]);
    tx_client(&mut c);
    c.send_data(b"AT\r\n\r");
    assert_eq!(tx_client(&mut c), b"AT\r\0\n\r\0");
}

#[test]
fn received_data_is_unescaped_and_nul_after_cr_dropped_outside_binary() {
    let mut c = Client::new(ClientConfig::new(115_200));
    tx_client(&mut c);
    // The server has not agreed to send binary: CR NUL is a bare CR, split across reads too.
    c.handle_input(b"OK\r");
    c.handle_input(&[0, b'\n', IAC, IAC, b'z']);
    let data: Vec<u8> = client_events(&mut c)
        .into_iter()
        .flat_map(|e| match e {
            ClientEvent::Data(d) => d,
            _ => Vec::new(),
        })
        .collect();
    assert_eq!(data, b"OK\r\n\xffz");
    // In binary mode a NUL after CR is data.
    c.handle_input(&[IAC, WILL, 0, b'\r', 0]);
    let data: Vec<Vec<u8>> = client_events(&mut c)
        .into_iter()
        .filter_map(|e| match e {
            ClientEvent::Data(d) => Some(d),
            _ => None,
        })
        .collect();
    assert_eq!(data, [b"\r\0".to_vec()]);
}

#[test]
fn server_answers_every_command_and_reports_lines_in_stream_order() {
    let mut s = Server::new(ServerConfig::default());
    assert_eq!(tx_server(&mut s), [IAC, WILL, 0, IAC, DO, 0, IAC, WILL, 3]);
    s.handle_input(&[IAC, WILL, COM, IAC, WILL, 0, IAC, DO, 0]);
    assert_eq!(server_events(&mut s), [ServerEvent::ComPort(true)]);
    // DO COM-PORT, then the first modem-state notification (DSR, CTS).
    assert_eq!(
        tx_server(&mut s),
        [IAC, DO, COM, IAC, SB, COM, 107, 0x30, IAC, SE]
    );
    let mut input = b"AT+QSMTPBODY\r".to_vec();
    input.extend([IAC, SB, COM, 5, 9, IAC, SE]); // DTR off
    input.extend(b"tail");
    input.extend([IAC, SB, COM, 1, 0, 0, 0, 0, IAC, SE]); // baud? (a request)
    input.extend([IAC, SB, COM, 5, 7, IAC, SE]); // DTR? (a request)
    s.handle_input(&input);
    assert_eq!(
        server_events(&mut s),
        [
            ServerEvent::Data(b"AT+QSMTPBODY\r".to_vec()),
            ServerEvent::Dtr(false),
            ServerEvent::Data(b"tail".to_vec()),
        ]
    );
    assert_eq!(
        tx_server(&mut s),
        [
            IAC, SB, COM, 105, 9, IAC, SE, // DTR off acknowledged
            IAC, SB, COM, 101, 0, 1, 0xc2, 0, IAC, SE, // the current rate: 115200
            IAC, SB, COM, 105, 9, IAC, SE, // DTR is off
        ]
    );
    // A baud rate whose bytes contain 0xff is escaped inside the subnegotiation.
    s.handle_input(&[IAC, SB, COM, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, IAC, SE]);
    assert_eq!(server_events(&mut s), [ServerEvent::Baud(0x0000_ffff)]);
    assert_eq!(
        tx_server(&mut s),
        [IAC, SB, COM, 101, 0, 0, 0xff, 0xff, 0xff, 0xff, IAC, SE]
    );
}

#[test]
fn hostile_input_is_bounded_and_recovers() {
    let mut s = Server::new(ServerConfig::default());
    tx_server(&mut s);
    // An endless subnegotiation is dropped whole; the stream recovers after SE.
    let mut input = vec![IAC, SB, COM, 0];
    input.extend(std::iter::repeat_n(b'x', 100_000));
    input.extend([IAC, SE]);
    input.extend(b"ok");
    s.handle_input(&input);
    assert_eq!(server_events(&mut s), [ServerEvent::Data(b"ok".to_vec())]);
    assert_eq!(s.stats().dropped_subnegotiations, 1);
    // A subnegotiation cut by another command: dropped, and the command is still read.
    s.handle_input(&[IAC, SB, COM, 5, 9, IAC, WILL, COM, b'z']);
    assert_eq!(
        server_events(&mut s),
        [ServerEvent::ComPort(true), ServerEvent::Data(b"z".to_vec())]
    );
    // Unknown options are refused once; repeated refusals do not loop.
    s.handle_input(&[IAC, WILL, 99, IAC, DO, 98, IAC, WONT, 97, IAC, DONT, 96]);
    let out = tx_server(&mut s);
    assert!(out.ends_with(&[IAC, DONT, 99, IAC, WONT, 98]), "{out:?}");
    // An option already on is not acknowledged again (no negotiation loop).
    s.handle_input(&[IAC, WILL, COM]);
    assert!(tx_server(&mut s).is_empty());
}

#[test]
fn client_answers_a_signature_request_and_reads_notifications() {
    let mut c = Client::new(ClientConfig::new(115_200));
    tx_client(&mut c);
    c.handle_input(&[IAC, WILL, COM]);
    tx_client(&mut c);
    c.handle_input(&[IAC, SB, COM, 100, IAC, SE, IAC, SB, COM, 107, 0xb0, IAC, SE]);
    assert_eq!(
        client_events(&mut c),
        [ClientEvent::ComPort(true), ClientEvent::ModemState(0xb0)]
    );
    let out = tx_client(&mut c);
    let mut want = vec![IAC, SB, COM, 0];
    want.extend(b"atconform");
    want.extend([IAC, SE]);
    assert!(out.windows(want.len()).any(|w| w == want), "{out:?}");
}

#[test]
fn fuzz_entry_points_accept_their_seeds() {
    fuzzing::decode(&[]);
    fuzzing::decode(&[3, IAC, SB, COM, 1, 0, 0, IAC, IAC, IAC, SE, b'\r', 0]);
    fuzzing::roundtrip(&[]);
    fuzzing::roundtrip(&[
        5, 2, 7, b'A', b'T', b'\r', 0, 2, 0xff, 0xff, 0, 1, 3, 0xff, 0xff, b'\r',
    ]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn decoding_is_chunking_independent(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        fuzzing::decode(&data);
    }

    #[test]
    fn decoding_telnet_heavy_input(data in proptest::collection::vec(
        prop_oneof![Just(IAC), Just(SB), Just(SE), Just(WILL), Just(DO), Just(COM), Just(b'\r'), Just(0u8), any::<u8>()],
        0..256,
    )) {
        fuzzing::decode(&data);
    }

    #[test]
    fn client_operations_reach_the_server_in_order(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        fuzzing::roundtrip(&data);
    }
}
