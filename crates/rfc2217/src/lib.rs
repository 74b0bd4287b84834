//! Sans-IO Telnet COM port control (RFC 2217): a serial port over TCP, with its baud rate and
//! modem lines (DTR, RTS) carried in Telnet subnegotiations.
//!
//! Lab serial servers (ser2net, labgrid's `NetworkSerialPort` with `protocol: rfc2217`) speak
//! it; the runner needs it to drive DTR on a module across the network (000 §1.3, `AT&D1`).
//! No I/O, no clock, no threads: bytes from the network go into `handle_input`, bytes for the
//! network come out of `poll_transmit`, and what happened comes out of `poll_event` in stream
//! order (data and control changes interleaved exactly as sent). The decoder keeps at most
//! [`MAX_SUBNEGOTIATION`] bytes of state, never panics, and recovers from malformed input.
//!
//! Two roles share one Telnet layer ([`telnet`]): [`Client`] (the runner's side: the serial
//! port's user) and [`Server`] (the access server's side: `atconform emulate --rfc2217`).
//! Call order for either: after each `handle_input`, drain `poll_event` and `poll_transmit`.
//!
//! ```
//! use at_rfc2217::{Client, ClientConfig, ClientEvent, Server, ServerConfig, ServerEvent};
//!
//! let mut client = Client::new(ClientConfig::new(115_200));
//! let mut server = Server::new(ServerConfig::default());
//! // Pump both directions until the negotiation settles (a TCP connection does this).
//! let mut wire = Vec::new();
//! for _ in 0..4 {
//!     wire.clear();
//!     client.poll_transmit(&mut wire);
//!     server.handle_input(&wire);
//!     wire.clear();
//!     server.poll_transmit(&mut wire);
//!     client.handle_input(&wire);
//! }
//! assert_eq!(client.com_port(), Some(true));
//! assert_eq!(client.baud(), Some(115_200));
//!
//! // Data, then DTR off: the server sees them in that order.
//! client.send_data(b"hello\xff");
//! client.set_dtr(false);
//! wire.clear();
//! client.poll_transmit(&mut wire);
//! server.handle_input(&wire);
//! let mut seen = Vec::new();
//! while let Some(ev) = server.poll_event() {
//!     match ev {
//!         ServerEvent::Data(d) => seen.push(format!("data {d:?}")),
//!         ServerEvent::Dtr(on) => seen.push(format!("dtr {on}")),
//!         _ => {}
//!     }
//! }
//! assert_eq!(seen.last().map(String::as_str), Some("dtr false"));
//! assert!(seen.iter().any(|s| s == &format!("data {:?}", b"hello\xff".to_vec())));
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

use alloc::collections::VecDeque;
use alloc::vec::Vec;

pub mod telnet;

#[doc(hidden)]
pub mod fuzzing;

use telnet::{Item, OPT_BINARY, OPT_COM_PORT, OPT_SGA, Telnet};
pub use telnet::{MAX_SUBNEGOTIATION, Stats};

/// RFC 2217 command codes, client to access server (the server answers with code + 100).
pub mod code {
    /// Signature text (empty: a request for the peer's).
    pub const SIGNATURE: u8 = 0;
    /// Baud rate, 4 bytes big-endian (0: request the current value).
    pub const SET_BAUDRATE: u8 = 1;
    /// Data bits (0: request).
    pub const SET_DATASIZE: u8 = 2;
    /// Parity: 1 none, 2 odd, 3 even, 4 mark, 5 space (0: request).
    pub const SET_PARITY: u8 = 3;
    /// Stop bits: 1, 2, 3 = 1.5 (0: request).
    pub const SET_STOPSIZE: u8 = 4;
    /// Flow control, BREAK, DTR, RTS (see [`super::control`]).
    pub const SET_CONTROL: u8 = 5;
    /// Line state notification (server to client).
    pub const NOTIFY_LINESTATE: u8 = 6;
    /// Modem state notification (server to client; a client may poll with it).
    pub const NOTIFY_MODEMSTATE: u8 = 7;
    /// Stop sending data.
    pub const FLOWCONTROL_SUSPEND: u8 = 8;
    /// Resume sending data.
    pub const FLOWCONTROL_RESUME: u8 = 9;
    /// Which line-state changes to notify.
    pub const SET_LINESTATE_MASK: u8 = 10;
    /// Which modem-state changes to notify.
    pub const SET_MODEMSTATE_MASK: u8 = 11;
    /// Purge buffers: 1 receive, 2 transmit, 3 both.
    pub const PURGE_DATA: u8 = 12;
    /// Added to a code in the access server's messages.
    pub const SERVER: u8 = 100;
}

/// `SET-CONTROL` values (RFC 2217 p. 8).
pub mod control {
    /// Request the outbound flow control setting.
    pub const REQ_FLOW: u8 = 0;
    /// No flow control (outbound/both).
    pub const NO_FLOW: u8 = 1;
    /// Request the BREAK state.
    pub const REQ_BREAK: u8 = 4;
    /// BREAK on.
    pub const BREAK_ON: u8 = 5;
    /// BREAK off.
    pub const BREAK_OFF: u8 = 6;
    /// Request the DTR state.
    pub const REQ_DTR: u8 = 7;
    /// DTR on.
    pub const DTR_ON: u8 = 8;
    /// DTR off.
    pub const DTR_OFF: u8 = 9;
    /// Request the RTS state.
    pub const REQ_RTS: u8 = 10;
    /// RTS on.
    pub const RTS_ON: u8 = 11;
    /// RTS off.
    pub const RTS_OFF: u8 = 12;
    /// Request the inbound flow control setting.
    pub const REQ_FLOW_IN: u8 = 13;
    /// No inbound flow control.
    pub const NO_FLOW_IN: u8 = 14;
}

/// Modem-state bits (`NOTIFY-MODEMSTATE`).
pub mod modem {
    /// Carrier detect.
    pub const CD: u8 = 0x80;
    /// Ring indicator.
    pub const RI: u8 = 0x40;
    /// Data set ready.
    pub const DSR: u8 = 0x20;
    /// Clear to send.
    pub const CTS: u8 = 0x10;
}

/// A COM-port message body as it travels: `[code, payload...]` (the option byte removed).
fn com_message(body: &[u8]) -> Option<(u8, &[u8])> {
    match body {
        [telnet::OPT_COM_PORT, code, payload @ ..] => Some((*code, payload)),
        _ => None,
    }
}

fn u32_of(payload: &[u8]) -> Option<u32> {
    match payload {
        [a, b, c, d] => Some(u32::from_be_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

fn byte_of(payload: &[u8]) -> Option<u8> {
    match payload {
        [v] => Some(*v),
        _ => None,
    }
}

/// The client's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// Baud rate to set once the server agrees to COM port control.
    pub baud: u32,
    /// DTR level to set then (a local port asserts DTR when opened).
    pub dtr: bool,
    /// Our signature, sent when the server asks for it.
    pub signature: Vec<u8>,
}

impl ClientConfig {
    /// 8N1 at `baud`, DTR on, signature `atconform`.
    pub fn new(baud: u32) -> Self {
        ClientConfig {
            baud,
            dtr: true,
            signature: b"atconform".to_vec(),
        }
    }
}

/// What a [`Client`] learned, in stream order.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// Serial data from the device.
    Data(Vec<u8>),
    /// The server agreed to COM port control (`true`), or refused it (`false`).
    ComPort(bool),
    /// The server's baud rate (its answer to `SET-BAUDRATE`).
    Baud(u32),
    /// The server's answer to `SET-CONTROL` (a [`control`] value).
    Control(u8),
    /// The server's data size, parity or stop size answer: (code, value).
    Setting(u8, u8),
    /// The modem lines ([`modem`] bits).
    ModemState(u8),
    /// The line state.
    LineState(u8),
    /// The server purged buffers (1 receive, 2 transmit, 3 both).
    Purged(u8),
    /// The server's signature text.
    Signature(Vec<u8>),
    /// The server asks us to stop (`true`) or resume (`false`) sending.
    FlowSuspended(bool),
}

/// The serial port's user: asks for COM port control, sets baud rate and DTR, exchanges data.
///
/// Getters: [`Client::com_port`], [`Client::baud`], [`Client::dtr`], [`Client::stats`].
/// `handle_input` takes network bytes; then drain [`Client::poll_event`] and
/// [`Client::poll_transmit`]. Mutators ([`Client::send_data`], [`Client::set_dtr`],
/// [`Client::set_baud`]) queue bytes for `poll_transmit`.
#[derive(Clone, Debug)]
pub struct Client {
    t: Telnet,
    config: ClientConfig,
    agreed: Option<bool>,
    /// Data and COM-port commands not yet sent, in the order they were issued.
    outbox: Outbox,
    events: VecDeque<ClientEvent>,
    baud: Option<u32>,
    dtr: Option<bool>,
}

impl Client {
    /// Starts the negotiation: `WILL COM-PORT-OPTION`, binary both ways, no go-aheads; then
    /// (once agreed) 8N1 at `config.baud`, no flow control, DTR as configured.
    pub fn new(config: ClientConfig) -> Self {
        // [BINARY, SGA, COM-PORT]: we accept all three on both sides.
        let mut t = Telnet::new([true; 3], [true; 3]);
        t.request_ours(OPT_COM_PORT);
        t.request_ours(OPT_BINARY);
        t.request_theirs(OPT_BINARY);
        t.request_ours(OPT_SGA);
        t.request_theirs(OPT_SGA);
        let mut c = Client {
            t,
            outbox: Outbox::default(),
            events: VecDeque::new(),
            agreed: None,
            baud: None,
            dtr: None,
            config,
        };
        c.command(code::SET_BAUDRATE, &c.config.baud.to_be_bytes());
        c.command(code::SET_DATASIZE, &[8]);
        c.command(code::SET_PARITY, &[1]);
        c.command(code::SET_STOPSIZE, &[1]);
        c.command(code::SET_CONTROL, &[control::NO_FLOW]);
        let dtr = if c.config.dtr {
            control::DTR_ON
        } else {
            control::DTR_OFF
        };
        c.command(code::SET_CONTROL, &[dtr]);
        c
    }

    /// `None` while negotiating; then whether the server agreed to COM port control.
    pub fn com_port(&self) -> Option<bool> {
        self.agreed
    }

    /// The baud rate the server last confirmed.
    pub fn baud(&self) -> Option<u32> {
        self.baud
    }

    /// The DTR level the server last confirmed.
    pub fn dtr(&self) -> Option<bool> {
        self.dtr
    }

    /// Whether both directions carry 8-bit data (`BINARY` agreed both ways).
    pub fn binary(&self) -> bool {
        self.t.ours(OPT_BINARY) && self.t.theirs(OPT_BINARY)
    }

    /// What the decoder had to tolerate.
    pub fn stats(&self) -> Stats {
        self.t.stats
    }

    /// Queues serial data for the device (held, in order with the commands, while our
    /// `WILL BINARY` is unanswered).
    pub fn send_data(&mut self, data: &[u8]) {
        self.outbox.ops.push_back(Op::Data(data.to_vec()));
        self.release();
    }

    /// Sets DTR (queued until the server agrees to COM port control).
    pub fn set_dtr(&mut self, on: bool) {
        let v = if on {
            control::DTR_ON
        } else {
            control::DTR_OFF
        };
        self.command(code::SET_CONTROL, &[v]);
    }

    /// Sets RTS (queued until the server agrees to COM port control).
    pub fn set_rts(&mut self, on: bool) {
        let v = if on {
            control::RTS_ON
        } else {
            control::RTS_OFF
        };
        self.command(code::SET_CONTROL, &[v]);
    }

    /// Sets the baud rate (queued until the server agrees to COM port control).
    pub fn set_baud(&mut self, baud: u32) {
        self.command(code::SET_BAUDRATE, &baud.to_be_bytes());
    }

    /// Sends any COM-port command (`code` from [`code`], client side); commands wait for the
    /// server's agreement (data sent after them waits too, so the order holds) and are
    /// dropped if it refuses.
    pub fn command(&mut self, code: u8, payload: &[u8]) {
        let mut body = Vec::with_capacity(payload.len() + 1);
        body.push(code);
        body.extend_from_slice(payload);
        self.outbox.ops.push_back(Op::Com(body));
        self.release();
    }

    fn release(&mut self) {
        self.outbox.release(&mut self.t, self.agreed);
    }

    /// Network bytes from the server.
    pub fn handle_input(&mut self, bytes: &[u8]) {
        let mut pos = 0;
        while let Some(item) = self.t.next_item(bytes, &mut pos) {
            match item {
                Item::Data(d) => self.events.push_back(ClientEvent::Data(d)),
                Item::Option(_, OPT_COM_PORT, _) => self.update_agreement(),
                Item::Option(..) => {}
                Item::Sub(body) => self.sub(&body),
            }
            // Held data and commands go out as soon as they may, in stream order.
            self.release();
        }
    }

    fn update_agreement(&mut self) {
        let yes = self.t.ours(OPT_COM_PORT) || self.t.theirs(OPT_COM_PORT);
        if yes && self.agreed != Some(true) {
            self.agreed = Some(true);
            self.events.push_back(ClientEvent::ComPort(true));
        } else if !yes && self.agreed != Some(false) {
            // Refused (or withdrawn): no COM port control on this connection.
            self.agreed = Some(false);
            self.events.push_back(ClientEvent::ComPort(false));
        }
    }

    fn sub(&mut self, body: &[u8]) {
        let Some((code, payload)) = com_message(body) else {
            return;
        };
        let ev = match code.checked_sub(code::SERVER) {
            Some(code::SIGNATURE) if payload.is_empty() => {
                let mut reply = alloc::vec![code::SIGNATURE];
                reply.extend_from_slice(&self.config.signature);
                self.t.encode_sub(OPT_COM_PORT, &reply);
                None
            }
            Some(code::SIGNATURE) => Some(ClientEvent::Signature(payload.to_vec())),
            Some(code::SET_BAUDRATE) => u32_of(payload).map(|b| {
                self.baud = Some(b);
                ClientEvent::Baud(b)
            }),
            Some(c @ (code::SET_DATASIZE | code::SET_PARITY | code::SET_STOPSIZE)) => {
                byte_of(payload).map(|v| ClientEvent::Setting(c, v))
            }
            Some(code::SET_CONTROL) => byte_of(payload).map(|v| {
                match v {
                    control::DTR_ON => self.dtr = Some(true),
                    control::DTR_OFF => self.dtr = Some(false),
                    _ => {}
                }
                ClientEvent::Control(v)
            }),
            Some(code::NOTIFY_LINESTATE) => byte_of(payload).map(ClientEvent::LineState),
            Some(code::NOTIFY_MODEMSTATE) => byte_of(payload).map(ClientEvent::ModemState),
            Some(code::FLOWCONTROL_SUSPEND) => Some(ClientEvent::FlowSuspended(true)),
            Some(code::FLOWCONTROL_RESUME) => Some(ClientEvent::FlowSuspended(false)),
            Some(code::PURGE_DATA) => byte_of(payload).map(ClientEvent::Purged),
            _ => None,
        };
        if let Some(ev) = ev {
            self.events.push_back(ev);
        }
    }

    /// The next event, in stream order.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// Appends the bytes to send to the server to `out`.
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.t.out);
    }

    /// Whether there are bytes to send.
    pub fn has_transmit(&self) -> bool {
        !self.t.out.is_empty()
    }
}

/// What the application queued, in order.
#[derive(Clone, Debug)]
enum Op {
    Data(Vec<u8>),
    /// A COM-port message body: code, payload.
    Com(Vec<u8>),
}

/// The application's data and commands, released to the wire in order: data once our
/// `WILL BINARY` is answered, commands once COM port control is agreed (dropped if refused).
#[derive(Clone, Debug, Default)]
struct Outbox {
    ops: VecDeque<Op>,
}

impl Outbox {
    fn release(&mut self, t: &mut Telnet, agreed: Option<bool>) {
        while let Some(op) = self.ops.front() {
            match op {
                Op::Data(_) if t.binary_pending() => break,
                Op::Com(_) if agreed.is_none() => break,
                _ => {}
            }
            match self.ops.pop_front() {
                Some(Op::Data(d)) => t.encode_data(&d),
                Some(Op::Com(body)) if agreed == Some(true) => t.encode_sub(OPT_COM_PORT, &body),
                _ => {}
            }
        }
    }
}

/// The access server's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// The port's baud rate until a client sets one.
    pub baud: u32,
    /// The modem lines reported to clients ([`modem`] bits).
    pub modem_state: u8,
    /// Our signature, sent when the client asks for it.
    pub signature: Vec<u8>,
}

impl Default for ServerConfig {
    /// 115200 baud, DSR and CTS up, signature `atconform emulate`.
    fn default() -> Self {
        ServerConfig {
            baud: 115_200,
            modem_state: modem::DSR | modem::CTS,
            signature: b"atconform emulate".to_vec(),
        }
    }
}

/// What a [`Server`] was asked to do, in stream order (each already acknowledged to the
/// client as RFC 2217 requires).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// Serial data for the device.
    Data(Vec<u8>),
    /// The client agreed to COM port control (`true`) or withdrew it.
    ComPort(bool),
    /// New baud rate.
    Baud(u32),
    /// New data size, parity or stop size: (code, value).
    Setting(u8, u8),
    /// DTR on or off.
    Dtr(bool),
    /// RTS on or off.
    Rts(bool),
    /// BREAK on or off.
    Break(bool),
    /// Flow control setting (a [`control`] value).
    FlowControl(u8),
    /// Purge buffers (1 receive, 2 transmit, 3 both).
    Purge(u8),
    /// The client asks us to stop (`true`) or resume (`false`) sending.
    FlowSuspended(bool),
}

/// The access server's side: answers the negotiation and every COM-port command, and turns
/// the client's stream into data and line events.
///
/// Getters: [`Server::com_port`], [`Server::baud`], [`Server::dtr`], [`Server::stats`].
/// `handle_input` takes network bytes; then drain [`Server::poll_event`] and
/// [`Server::poll_transmit`]. [`Server::send_data`] queues device output for the client.
#[derive(Clone, Debug)]
pub struct Server {
    t: Telnet,
    config: ServerConfig,
    agreed: bool,
    outbox: Outbox,
    events: VecDeque<ServerEvent>,
    baud: u32,
    settings: [u8; 3],
    dtr: bool,
    rts: bool,
    brk: bool,
    flow: u8,
    flow_in: u8,
    linestate_mask: u8,
    modemstate_mask: u8,
}

impl Server {
    /// Offers binary both ways and no go-aheads; waits for the client's `WILL COM-PORT-OPTION`
    /// (and agrees to `DO COM-PORT-OPTION` too, as some clients ask that way).
    pub fn new(config: ServerConfig) -> Self {
        let mut t = Telnet::new([true; 3], [true; 3]);
        t.request_ours(OPT_BINARY);
        t.request_theirs(OPT_BINARY);
        t.request_ours(OPT_SGA);
        Server {
            t,
            agreed: false,
            outbox: Outbox::default(),
            events: VecDeque::new(),
            baud: config.baud,
            settings: [8, 1, 1],
            dtr: true,
            rts: true,
            brk: false,
            flow: control::NO_FLOW,
            flow_in: control::NO_FLOW_IN,
            linestate_mask: 0,
            modemstate_mask: 0xff,
            config,
        }
    }

    /// Whether the client uses COM port control.
    pub fn com_port(&self) -> bool {
        self.agreed
    }

    /// The current baud rate.
    pub fn baud(&self) -> u32 {
        self.baud
    }

    /// The current DTR level (on until a client drops it).
    pub fn dtr(&self) -> bool {
        self.dtr
    }

    /// What the decoder had to tolerate.
    pub fn stats(&self) -> Stats {
        self.t.stats
    }

    /// Queues device output for the client (held while our `WILL BINARY` is unanswered).
    pub fn send_data(&mut self, data: &[u8]) {
        self.outbox.ops.push_back(Op::Data(data.to_vec()));
        self.outbox.release(&mut self.t, Some(true));
    }

    /// Changes the modem lines and notifies the client (within its mask).
    pub fn set_modem_state(&mut self, state: u8) {
        let changed = (state ^ self.config.modem_state) & self.modemstate_mask;
        self.config.modem_state = state;
        if self.agreed && changed != 0 {
            self.reply(code::NOTIFY_MODEMSTATE, &[state]);
        }
    }

    /// Network bytes from the client.
    pub fn handle_input(&mut self, bytes: &[u8]) {
        let mut pos = 0;
        while let Some(item) = self.t.next_item(bytes, &mut pos) {
            match item {
                Item::Data(d) => self.events.push_back(ServerEvent::Data(d)),
                Item::Option(_, OPT_COM_PORT, _) => {
                    let yes = self.t.ours(OPT_COM_PORT) || self.t.theirs(OPT_COM_PORT);
                    if yes != self.agreed {
                        self.agreed = yes;
                        self.events.push_back(ServerEvent::ComPort(yes));
                        if yes {
                            let state = self.config.modem_state;
                            self.reply(code::NOTIFY_MODEMSTATE, &[state]);
                        }
                    }
                }
                Item::Option(..) => {}
                Item::Sub(body) => self.sub(&body),
            }
            self.outbox.release(&mut self.t, Some(true));
        }
    }

    fn reply(&mut self, code: u8, payload: &[u8]) {
        let mut body = Vec::with_capacity(payload.len() + 1);
        body.push(code + code::SERVER);
        body.extend_from_slice(payload);
        self.t.encode_sub(OPT_COM_PORT, &body);
    }

    fn sub(&mut self, body: &[u8]) {
        let Some((c, payload)) = com_message(body) else {
            return;
        };
        match c {
            code::SIGNATURE if payload.is_empty() => {
                let sig = self.config.signature.clone();
                self.reply(code::SIGNATURE, &sig);
            }
            code::SET_BAUDRATE => {
                if let Some(b) = u32_of(payload) {
                    if b != 0 {
                        self.baud = b;
                        self.events.push_back(ServerEvent::Baud(b));
                    }
                    let now = self.baud.to_be_bytes();
                    self.reply(c, &now);
                }
            }
            code::SET_DATASIZE | code::SET_PARITY | code::SET_STOPSIZE => {
                let i = usize::from(c - code::SET_DATASIZE);
                if let (Some(v), Some(slot)) = (byte_of(payload), self.settings.get_mut(i)) {
                    if v != 0 {
                        *slot = v;
                        self.events.push_back(ServerEvent::Setting(c, v));
                    }
                    let now = *slot;
                    self.reply(c, &[now]);
                }
            }
            code::SET_CONTROL => {
                if let Some(v) = byte_of(payload) {
                    self.control(v);
                }
            }
            code::NOTIFY_LINESTATE => self.reply(c, &[0]),
            code::NOTIFY_MODEMSTATE => {
                let state = self.config.modem_state;
                self.reply(c, &[state]);
            }
            code::FLOWCONTROL_SUSPEND => self.events.push_back(ServerEvent::FlowSuspended(true)),
            code::FLOWCONTROL_RESUME => self.events.push_back(ServerEvent::FlowSuspended(false)),
            code::SET_LINESTATE_MASK | code::SET_MODEMSTATE_MASK => {
                if let Some(v) = byte_of(payload) {
                    if c == code::SET_LINESTATE_MASK {
                        self.linestate_mask = v;
                    } else {
                        self.modemstate_mask = v;
                    }
                    self.reply(c, &[v]);
                }
            }
            code::PURGE_DATA => {
                if let Some(v) = byte_of(payload) {
                    self.events.push_back(ServerEvent::Purge(v));
                    self.reply(c, &[v]);
                }
            }
            // A signature text, or a code this side does not handle: nothing to answer.
            _ => {}
        }
    }

    fn control(&mut self, v: u8) {
        let answer = match v {
            control::REQ_FLOW => self.flow,
            1..=3 | 17..=19 => {
                self.flow = v;
                self.events.push_back(ServerEvent::FlowControl(v));
                v
            }
            control::REQ_BREAK => {
                if self.brk {
                    control::BREAK_ON
                } else {
                    control::BREAK_OFF
                }
            }
            control::BREAK_ON | control::BREAK_OFF => {
                self.brk = v == control::BREAK_ON;
                self.events.push_back(ServerEvent::Break(self.brk));
                v
            }
            control::REQ_DTR => {
                if self.dtr {
                    control::DTR_ON
                } else {
                    control::DTR_OFF
                }
            }
            control::DTR_ON | control::DTR_OFF => {
                self.dtr = v == control::DTR_ON;
                self.events.push_back(ServerEvent::Dtr(self.dtr));
                v
            }
            control::REQ_RTS => {
                if self.rts {
                    control::RTS_ON
                } else {
                    control::RTS_OFF
                }
            }
            control::RTS_ON | control::RTS_OFF => {
                self.rts = v == control::RTS_ON;
                self.events.push_back(ServerEvent::Rts(self.rts));
                v
            }
            control::REQ_FLOW_IN => self.flow_in,
            14..=16 => {
                self.flow_in = v;
                self.events.push_back(ServerEvent::FlowControl(v));
                v
            }
            // Unknown values: echo them (RFC 2217 asks the server to answer every request).
            other => other,
        };
        self.reply(code::SET_CONTROL, &[answer]);
    }

    /// The next event, in stream order.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// Appends the bytes to send to the client to `out`.
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.t.out);
    }

    /// Whether there are bytes to send.
    pub fn has_transmit(&self) -> bool {
        !self.t.out.is_empty()
    }
}
