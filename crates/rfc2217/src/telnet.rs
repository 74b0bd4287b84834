//! The Telnet layer both roles share: the byte-stream decoder (RFC 854 `IAC` commands, RFC 855
//! subnegotiation), option negotiation without loops (RFC 1143 "Q method", without the queue
//! bit), and the data encoding (`IAC` doubling; `CR NUL` outside binary mode, RFC 856).

use alloc::vec::Vec;

/// Interpret As Command.
pub const IAC: u8 = 255;
/// Refuse / ask to stop an option on the peer's side.
pub const DONT: u8 = 254;
/// Ask the peer to enable an option on its side.
pub const DO: u8 = 253;
/// Refuse / stop an option on our side.
pub const WONT: u8 = 252;
/// Offer an option on our side.
pub const WILL: u8 = 251;
/// Subnegotiation begins.
pub const SB: u8 = 250;
/// Subnegotiation ends.
pub const SE: u8 = 240;

/// RFC 856: 8-bit data path.
pub const OPT_BINARY: u8 = 0;
/// RFC 857: echo.
pub const OPT_ECHO: u8 = 1;
/// RFC 858: suppress go-ahead.
pub const OPT_SGA: u8 = 3;
/// RFC 2217: COM port control.
pub const OPT_COM_PORT: u8 = 44;

/// The longest subnegotiation body kept (option byte included); longer ones are dropped whole
/// and counted ([`Stats::dropped_subnegotiations`]). RFC 2217's longest fixed body is 6 bytes;
/// a `SIGNATURE` text may be longer but is informational.
pub const MAX_SUBNEGOTIATION: usize = 256;

/// The options this crate negotiates; every other option is refused.
const OPTIONS: [u8; 3] = [OPT_BINARY, OPT_SGA, OPT_COM_PORT];

fn index(option: u8) -> Option<usize> {
    OPTIONS.iter().position(|&o| o == option)
}

/// RFC 1143 state of one side of one option (we never ask to disable one, so no `WantNo`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Q {
    No,
    Yes,
    /// We asked to enable it and wait for the answer.
    WantYes,
}

/// Counters of what the decoder had to tolerate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Subnegotiations longer than [`MAX_SUBNEGOTIATION`], dropped.
    pub dropped_subnegotiations: u64,
    /// `IAC` followed by a byte that is not a Telnet command, ignored.
    pub bad_commands: u64,
}

/// What the decoder found, in stream order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Item {
    /// Data bytes (already unescaped).
    Data(Vec<u8>),
    /// A complete subnegotiation body (`option`, payload...), `IAC IAC` unescaped.
    Sub(Vec<u8>),
    /// An option changed state: (`ours`, option, enabled).
    Option(bool, u8, bool),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rx {
    Data,
    Iac,
    Verb(u8),
    Sb,
    SbIac,
}

/// One end of a Telnet connection: decoder state, option states and the transmit buffer.
#[derive(Clone, Debug)]
pub(crate) struct Telnet {
    rx: Rx,
    /// An item found right after a run of data, returned by the next call.
    ready: Option<Item>,
    sb: Vec<u8>,
    sb_overflow: bool,
    /// A CR arrived outside binary mode: a NUL right after it is padding (RFC 854).
    cr_pending: bool,
    us: [Q; 3],
    him: [Q; 3],
    accept_us: [bool; 3],
    accept_him: [bool; 3],
    pub(crate) out: Vec<u8>,
    pub(crate) stats: Stats,
}

impl Telnet {
    /// `accept_us`/`accept_him`: per option of [`OPTIONS`], whether we agree to enable it on our
    /// side (answer `DO` with `WILL`) and on the peer's side (answer `WILL` with `DO`).
    pub(crate) fn new(accept_us: [bool; 3], accept_him: [bool; 3]) -> Self {
        Telnet {
            rx: Rx::Data,
            ready: None,
            sb: Vec::new(),
            sb_overflow: false,
            cr_pending: false,
            us: [Q::No; 3],
            him: [Q::No; 3],
            accept_us,
            accept_him,
            out: Vec::new(),
            stats: Stats::default(),
        }
    }

    /// Whether `option` is enabled on our side.
    pub(crate) fn ours(&self, option: u8) -> bool {
        index(option).and_then(|i| self.us.get(i)) == Some(&Q::Yes)
    }

    /// Whether our `WILL BINARY` is still unanswered: data sent now would be ambiguous (the
    /// peer reads binary from our `WILL`, we may only send it after its `DO`, RFC 856), so
    /// the roles hold data back until it is answered.
    pub(crate) fn binary_pending(&self) -> bool {
        index(OPT_BINARY).and_then(|i| self.us.get(i)) == Some(&Q::WantYes)
    }

    /// Whether `option` is enabled on the peer's side.
    pub(crate) fn theirs(&self, option: u8) -> bool {
        index(option).and_then(|i| self.him.get(i)) == Some(&Q::Yes)
    }

    /// Asks to enable `option` on our side (`WILL`).
    pub(crate) fn request_ours(&mut self, option: u8) {
        if let Some(i) = index(option)
            && let Some(q) = self.us.get_mut(i)
            && *q == Q::No
        {
            *q = Q::WantYes;
            self.out.extend_from_slice(&[IAC, WILL, option]);
        }
    }

    /// Asks the peer to enable `option` on its side (`DO`).
    pub(crate) fn request_theirs(&mut self, option: u8) {
        if let Some(i) = index(option)
            && let Some(q) = self.him.get_mut(i)
            && *q == Q::No
        {
            *q = Q::WantYes;
            self.out.extend_from_slice(&[IAC, DO, option]);
        }
    }

    /// Queues `data` for the peer: `IAC` doubled, and `CR` padded with `NUL` unless our side
    /// transmits in binary mode.
    pub(crate) fn encode_data(&mut self, data: &[u8]) {
        let binary = self.ours(OPT_BINARY);
        self.out.reserve(data.len());
        for &b in data {
            self.out.push(b);
            if b == IAC {
                self.out.push(IAC);
            } else if b == b'\r' && !binary {
                self.out.push(0);
            }
        }
    }

    /// Queues a subnegotiation `IAC SB option body IAC SE`, `IAC` in the body doubled.
    pub(crate) fn encode_sub(&mut self, option: u8, body: &[u8]) {
        self.out.extend_from_slice(&[IAC, SB, option]);
        for &b in body {
            self.out.push(b);
            if b == IAC {
                self.out.push(IAC);
            }
        }
        self.out.extend_from_slice(&[IAC, SE]);
    }

    /// The next item of `input` from `*pos` on (advancing it), or `None` when `input` is used
    /// up. Negotiation is answered (into the transmit buffer) as it is read, so replies keep
    /// stream order with whatever the role sends between two items.
    pub(crate) fn next_item(&mut self, input: &[u8], pos: &mut usize) -> Option<Item> {
        if let Some(item) = self.ready.take() {
            return Some(item);
        }
        let mut run = Vec::new();
        while let Some(&b) = input.get(*pos) {
            *pos += 1;
            let item = match self.rx {
                Rx::Data => {
                    if b == IAC {
                        self.rx = Rx::Iac;
                    } else if core::mem::take(&mut self.cr_pending) && b == 0 {
                        // The NUL padding a CR (RFC 854).
                    } else {
                        self.cr_pending = b == b'\r' && !self.theirs(OPT_BINARY);
                        run.push(b);
                    }
                    None
                }
                Rx::Iac => {
                    self.rx = Rx::Data;
                    match b {
                        IAC => {
                            self.cr_pending = false;
                            run.push(IAC);
                        }
                        SB => {
                            self.sb.clear();
                            self.sb_overflow = false;
                            self.rx = Rx::Sb;
                        }
                        WILL | WONT | DO | DONT => self.rx = Rx::Verb(b),
                        // NOP, DM, BRK, IP, AO, AYT, EC, EL, GA: nothing to do for a serial
                        // data path; a stray SE outside a subnegotiation is ignored too.
                        241..=249 | SE => {}
                        _ => self.stats.bad_commands += 1,
                    }
                    None
                }
                Rx::Verb(verb) => {
                    self.rx = Rx::Data;
                    self.negotiate(verb, b)
                }
                Rx::Sb => {
                    if b == IAC {
                        self.rx = Rx::SbIac;
                    } else {
                        self.push_sb(b);
                    }
                    None
                }
                Rx::SbIac => match b {
                    IAC => {
                        self.push_sb(IAC);
                        self.rx = Rx::Sb;
                        None
                    }
                    SE => {
                        self.rx = Rx::Data;
                        let body = core::mem::take(&mut self.sb);
                        if self.sb_overflow {
                            self.stats.dropped_subnegotiations += 1;
                            None
                        } else {
                            Some(Item::Sub(body))
                        }
                    }
                    // RFC 855 leaves this undefined; end the subnegotiation, drop it, and
                    // read the byte again as a command (robust against a missing SE).
                    _ => {
                        self.stats.dropped_subnegotiations += 1;
                        self.sb.clear();
                        self.rx = Rx::Iac;
                        *pos -= 1;
                        None
                    }
                },
            };
            if let Some(item) = item {
                if run.is_empty() {
                    return Some(item);
                }
                self.ready = Some(item);
                return Some(Item::Data(run));
            }
        }
        (!run.is_empty()).then_some(Item::Data(run))
    }

    fn push_sb(&mut self, b: u8) {
        if self.sb.len() < MAX_SUBNEGOTIATION {
            self.sb.push(b);
        } else {
            self.sb_overflow = true;
        }
    }

    /// RFC 1143 for one received `WILL`/`WONT`/`DO`/`DONT`; returns a state change.
    fn negotiate(&mut self, verb: u8, option: u8) -> Option<Item> {
        let Some(i) = index(option) else {
            // Unknown options: refuse enabling requests, ignore the rest (RFC 854).
            match verb {
                WILL => self.out.extend_from_slice(&[IAC, DONT, option]),
                DO => self.out.extend_from_slice(&[IAC, WONT, option]),
                _ => {}
            }
            return None;
        };
        let ours = matches!(verb, DO | DONT);
        let yes = matches!(verb, WILL | DO);
        let (accept, q) = if ours {
            (self.accept_us.get(i).copied(), self.us.get_mut(i))
        } else {
            (self.accept_him.get(i).copied(), self.him.get_mut(i))
        };
        let (accept, q) = (accept.unwrap_or(false), q?);
        let (agree, refuse) = if ours { (WILL, WONT) } else { (DO, DONT) };
        let before = *q;
        let mut reply = None;
        *q = match (before, yes) {
            (Q::No, true) if accept => {
                reply = Some(agree);
                Q::Yes
            }
            (Q::No, true) => {
                reply = Some(refuse);
                Q::No
            }
            (Q::No, false) => Q::No,
            (Q::Yes, true) => Q::Yes,
            (Q::Yes, false) => {
                reply = Some(refuse);
                Q::No
            }
            (Q::WantYes, true) => Q::Yes,
            (Q::WantYes, false) => Q::No,
        };
        let after = *q;
        if let Some(r) = reply {
            self.out.extend_from_slice(&[IAC, r, option]);
        }
        // A refused request (WantYes -> No) is a change too, so a role can stop waiting.
        (before != after).then_some(Item::Option(ours, option, after == Q::Yes))
    }
}
