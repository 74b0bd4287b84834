//! Sans-IO SMTP client and MIME composer used by the emulator to really deliver mail.
#![forbid(unsafe_code)]
