//! The `<err>` table (000 §5, table 3; 001 table 1) and the `<protocol_error>` table (000 §6,
//! table 4; 001 table 2), and the mapping between them.
//!
//! Codes 651–665 are the module's own errors; 666–682 stand for the SMTP reply codes 421–554 in
//! table order (666 ↔ 421, 667 ↔ 450, …, 682 ↔ 554): both tables list the same seventeen English
//! descriptions in the same order.

/// One row of an error table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorCode {
    /// The numeric code as it appears on the wire.
    pub code: u16,
    /// The English description, as printed in the manuals.
    pub name: &'static str,
    /// The Chinese description from 000.
    pub zh: &'static str,
}

const fn e(code: u16, name: &'static str, zh: &'static str) -> ErrorCode {
    ErrorCode { code, name, zh }
}

/// `<err>` codes 651–682, in table order (000 §5 table 3).
pub static ERR_CODES: [ErrorCode; 32] = [
    e(651, "Unknown error", "未知错误"),
    e(
        652,
        "The SMTP server is busy, such as uploading the body or sending an email.",
        "SMTP 服务器正忙，例如上传邮件正文或发送邮件。",
    ),
    e(
        653,
        "Failed to get IP address according to the domain name.",
        "无法根据域名获取 IP 地址。",
    ),
    e(
        654,
        "Network error, such as failed to activate GPRS/CSD context, failed to establish the TCP connection with the SMTP server or failed to send an email to the SMTP server, etc.",
        "网络错误，例如无法激活 GPRS/CSD 上下文，无法与 SMTP 服务器建立 TCP 连接或无法向 SMTP 服务器发送邮件等。",
    ),
    e(
        655,
        "Unsupported authentication type",
        "不支持的身份验证类型",
    ),
    e(
        656,
        "The connection for the SMTP server is closed by peer.",
        "SMTP 服务器的连接被对端关闭。",
    ),
    e(657, "GPRS/CSD context is deactivated.", "GPRS/CSD 被去激活"),
    e(658, "Timeout", "超时"),
    e(
        659,
        "No recipient for the SMTP server",
        "SMTP 服务器无收件人",
    ),
    e(660, "Failed to send an email", "发送邮件失败"),
    e(661, "Failed to open a file", "打开文件失败"),
    e(662, "No enough memory for the attachment", "内存不足"),
    e(663, "Failed to save the attachment", "保存附件失败"),
    e(664, "The input parameter is wrong", "输入参数错误"),
    e(665, "SSL authentication failed", "SSL 验证失败"),
    e(
        666,
        "Service not available, closing transmission channel",
        "服务不可用，正在关闭传输信道",
    ),
    e(
        667,
        "Requested mail action not taken: mailbox unavailable",
        "未执行请求的邮件操作：邮箱不可用",
    ),
    e(
        668,
        "Requested action aborted: local error in processing",
        "请求的操作已中止：处理中发生本地错误",
    ),
    e(
        669,
        "Requested action not taken: insufficient system storage",
        "未采取要求的操作：系统存储空间不足",
    ),
    e(
        670,
        "Syntax error, command unrecognized",
        "语法错误，命令无法识别",
    ),
    e(
        671,
        "Syntax error in parameters or arguments",
        "参数语法错误",
    ),
    e(672, "Command not implemented", "命令未实现"),
    e(673, "Bad sequence of commands", "命令顺序错误"),
    e(674, "Command parameter not implemented", "命令参数未实现"),
    e(
        675,
        "<domain> does not accept mail (see RFC1846)",
        "<domain>不接受邮件（请参考 RFC1846）",
    ),
    e(676, "Access denied", "拒绝访问"),
    e(677, "Authentication failed", "验证失败"),
    e(
        678,
        "Requested action not taken: mailbox unavailable",
        "未执行请求的操作：邮箱不可用",
    ),
    e(
        679,
        "User not local; please try <forward-path>",
        "用户不在本地；请尝试<forward-path>",
    ),
    e(
        680,
        "Requested mail action aborted: exceeded storage allocation",
        "请求的邮件操作中止：超出了分配存储",
    ),
    e(
        681,
        "Requested action not taken: mailbox name not allowed",
        "未采取请求的操作：不允许使用邮箱名称",
    ),
    e(682, "Transaction failed", "交易失败"),
];

/// `<protocol_error>` codes 421–554, in table order (000 §6 table 4).
pub static PROTOCOL_ERRORS: [ErrorCode; 17] = [
    e(
        421,
        "Service not available, closing transmission channel",
        "服务不可用，正在关闭传输信道",
    ),
    e(
        450,
        "Requested mail action not taken: mailbox unavailable",
        "未执行请求的邮件操作：邮箱不可用",
    ),
    e(
        451,
        "Requested action aborted: local error in processing",
        "请求的操作已中止：处理中发生本地错误",
    ),
    e(
        452,
        "Requested action not taken: insufficient system storage",
        "未采取要求的操作：系统存储空间不足",
    ),
    e(
        500,
        "Syntax error, command unrecognized",
        "语法错误，命令无法识别",
    ),
    e(
        501,
        "Syntax error in parameters or arguments",
        "参数语法错误",
    ),
    e(502, "Command not implemented", "命令未实现"),
    e(503, "Bad sequence of commands", "命令顺序错误"),
    e(504, "Command parameter not implemented", "命令参数未实现"),
    e(
        521,
        "<domain> does not accept mail (see RFC1846)",
        "<domain> 不接受邮件（请参考 RFC1846）",
    ),
    e(530, "Access denied", "拒绝访问"),
    e(535, "Authentication failed", "验证失败"),
    e(
        550,
        "Requested action not taken: mailbox unavailable",
        "未执行请求的操作：邮箱不可用",
    ),
    e(
        551,
        "User not local; please try <forward-path>",
        "用户不在本地；请尝试<forward-path>",
    ),
    e(
        552,
        "Requested mail action aborted: exceeded storage allocation",
        "请求的邮件操作中止：超出了分配存储",
    ),
    e(
        553,
        "Requested action not taken: mailbox name not allowed",
        "未采取请求的操作：不允许使用邮箱名称",
    ),
    e(554, "Transaction failed", "交易失败"),
];

/// Named `<err>` codes the emulator and checks refer to.
pub mod err {
    /// Success, as reported in `+QSMTPPUT: 0,0`.
    pub const OK: u16 = 0;
    /// 651 Unknown error.
    pub const UNKNOWN: u16 = 651;
    /// 652 Busy (uploading the body or sending an email).
    pub const BUSY: u16 = 652;
    /// 653 DNS failure.
    pub const DNS: u16 = 653;
    /// 654 Network error (TCP connect or send failed).
    pub const NETWORK: u16 = 654;
    /// 655 Unsupported authentication type.
    pub const AUTH_UNSUPPORTED: u16 = 655;
    /// 656 Connection closed by peer.
    pub const CLOSED_BY_PEER: u16 = 656;
    /// 657 PDP context deactivated.
    pub const PDP_DEACTIVATED: u16 = 657;
    /// 658 Timeout.
    pub const TIMEOUT: u16 = 658;
    /// 659 No recipient.
    pub const NO_RECIPIENT: u16 = 659;
    /// 660 Failed to send an email.
    pub const SEND_FAILED: u16 = 660;
    /// 661 Failed to open a file.
    pub const FILE_OPEN: u16 = 661;
    /// 662 Not enough memory for the attachment.
    pub const NO_MEMORY: u16 = 662;
    /// 664 The input parameter is wrong.
    pub const BAD_PARAM: u16 = 664;
    /// 665 SSL authentication failed.
    pub const SSL: u16 = 665;
    /// 677 Authentication failed (SMTP 535).
    pub const AUTH_FAILED: u16 = 677;
}

/// The `<err>` row for `code`, if it is in table 3.
pub fn err_code(code: u16) -> Option<&'static ErrorCode> {
    ERR_CODES.iter().find(|e| e.code == code)
}

/// The `<protocol_error>` row for `code`, if it is in table 4.
pub fn protocol_error(code: u16) -> Option<&'static ErrorCode> {
    PROTOCOL_ERRORS.iter().find(|e| e.code == code)
}

/// The `<err>` standing for an SMTP reply code in table 4 (421 → 666 … 554 → 682).
///
/// ```
/// assert_eq!(at_catalog::err_for_protocol(535), Some(677));
/// assert_eq!(at_catalog::err_for_protocol(220), None);
/// ```
pub fn err_for_protocol(reply: u16) -> Option<u16> {
    let i = PROTOCOL_ERRORS.iter().position(|e| e.code == reply)?;
    // 666 is the first SMTP-derived `<err>`; both tables share order and length.
    Some(666 + i as u16)
}

/// The SMTP reply code an `<err>` in 666–682 stands for (677 → 535).
pub fn protocol_for_err(err: u16) -> Option<u16> {
    let i = err.checked_sub(666)? as usize;
    PROTOCOL_ERRORS.get(i).map(|e| e.code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_parallel_in_order() {
        // 000 §5 and §6: the seventeen SMTP-derived rows carry the same English text.
        for (i, p) in PROTOCOL_ERRORS.iter().enumerate() {
            let e = &ERR_CODES[15 + i];
            assert_eq!(e.code, 666 + i as u16);
            assert_eq!(e.name, p.name, "row {i}");
        }
    }

    #[test]
    fn mapping_round_trips() {
        assert_eq!(err_for_protocol(421), Some(666));
        assert_eq!(err_for_protocol(554), Some(682));
        assert_eq!(err_for_protocol(535), Some(677));
        assert_eq!(err_for_protocol(530), Some(676));
        for p in &PROTOCOL_ERRORS {
            let e = err_for_protocol(p.code).unwrap();
            assert_eq!(protocol_for_err(e), Some(p.code));
        }
        assert_eq!(protocol_for_err(665), None);
        assert_eq!(protocol_for_err(683), None);
        assert_eq!(protocol_for_err(0), None);
    }

    #[test]
    fn codes_are_contiguous() {
        for (i, e) in ERR_CODES.iter().enumerate() {
            assert_eq!(e.code, 651 + i as u16);
        }
        assert_eq!(err_code(664).unwrap().name, "The input parameter is wrong");
        assert!(err_code(650).is_none());
        assert_eq!(protocol_error(535).unwrap().name, "Authentication failed");
    }
}
