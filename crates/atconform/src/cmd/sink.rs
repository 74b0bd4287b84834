//! `atconform sink`: run the capture SMTP sink stand-alone until Ctrl-C or SIGTERM.
//!
//! Prints one line when listening and one summary line per accepted message on stdout
//! (`[sink] #3 from=<a@b> to=<c@d> 1234 bytes tls=TLSv1/TLS_RSA_WITH_AES_256_CBC_SHA auth=user
//! subject="TEST SMTP"`). TLS: see `docs/tls.md`.
//! Passwords are never printed.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use miette::{IntoDiagnostic, WrapErr, miette};
use smtp_sink::{Account, AuthPolicy, FaultScript, Mechanism, Profile, SinkConfig};

/// Capture SMTP server: plain SMTP (+STARTTLS) and implicit TLS, provider profiles, faults, HTTP API.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Plain SMTP listener (STARTTLS offered unless --no-starttls); "none" to disable.
    #[arg(long, default_value = "127.0.0.1:2525", value_name = "ADDR")]
    listen: String,
    /// Implicit-TLS (SMTPS) listener, e.g. 127.0.0.1:2465 (Tencent SES uses 465).
    #[arg(long, value_name = "ADDR")]
    tls_listen: Option<SocketAddr>,
    /// JSON/HTTP query API listener, e.g. 127.0.0.1:8025.
    #[arg(long, value_name = "ADDR")]
    api: Option<SocketAddr>,
    /// Provider profile: permissive, rfc5321 or tencent-ses.
    #[arg(long, default_value = "permissive", value_parser = parse_profile)]
    profile: Profile,
    /// Also write messages (<id>.eml + <id>.json) and transcripts under this directory.
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// Accepted account `user:pass` (repeatable); without any, all credentials are accepted.
    #[arg(long, value_name = "USER:PASS")]
    auth: Vec<String>,
    /// AUTH mechanisms to offer and accept, comma-separated (PLAIN, LOGIN); "none" for no AUTH.
    #[arg(long, value_name = "LIST", default_value = "PLAIN,LOGIN", value_parser = parse_mechanisms)]
    auth_mechanisms: std::vec::Vec<Mechanism>,
    /// Require AUTH before MAIL (always on under tencent-ses).
    #[arg(long)]
    require_auth: bool,
    /// Do not offer STARTTLS on the plain listener.
    #[arg(long)]
    no_starttls: bool,
    /// Certificate chain (PEM) instead of a generated self-signed one; needs --key.
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// Private key (PEM) for --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// Accept only these TLS versions instead of the profile's, e.g. `1.2`, `1.0-1.2`,
    /// `TLSv1,TLSv1.2` (see docs/tls.md).
    #[arg(long, value_name = "LIST", value_parser = parse_versions)]
    tls_versions: Option<at_tls::Versions>,
    /// Accept only these suites instead of the profile's: OpenSSL or IANA names, numbers
    /// (`0x002F`), OpenSSL keywords, separated by `:` or `,`, e.g. `AES128-SHA:AES256-SHA`.
    #[arg(long, value_name = "LIST", value_parser = parse_ciphers)]
    tls_ciphers: Option<at_tls::Ciphers>,
    /// Print the atconform test CA certificate (PEM) that signs the sink's generated
    /// certificates, and exit: upload it to a module as AT+QSSLCFG="cacert" for seclevel 1/2.
    #[arg(long)]
    print_test_ca: bool,
    /// Fault script file (see docs/sink.md, "Fault scripts").
    #[arg(long, value_name = "FILE")]
    faults: Option<PathBuf>,
    /// One fault directive, e.g. `rcpt=550`, `delay=mail:2s`, `starttls=454`, `tls=expired`
    /// (repeatable, after --faults).
    #[arg(long, value_name = "DIRECTIVE")]
    fault: Vec<String>,
    /// Seed for SES request ids.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Name used in the greeting and EHLO reply.
    #[arg(long, default_value = "sink.atconform.test")]
    hostname: String,
    /// Most simultaneous connections; more get `421 4.3.2`.
    #[arg(long, default_value_t = 64)]
    max_connections: usize,
    /// Most simultaneous connections from one client address; more get `421 4.7.0`.
    #[arg(long, default_value_t = 16, value_name = "N")]
    max_connections_per_address: usize,
    /// Close a connection that sends no complete line (or reads no reply) for this long
    /// [default: 60s].
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    idle_timeout: Option<Duration>,
    /// Close a connection that does not read a reply within this long [default: 30s].
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    write_timeout: Option<Duration>,
    /// Failed AUTH attempts allowed per connection (then `421 4.7.0` and close) [default: 3].
    #[arg(long, value_name = "N")]
    max_auth_failures: Option<u32>,
}

fn parse_mechanisms(s: &str) -> Result<Vec<Mechanism>, String> {
    if s.eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|m| {
            Mechanism::from_name(m.trim())
                .ok_or_else(|| format!("unknown AUTH mechanism `{m}` (PLAIN, LOGIN or none)"))
        })
        .collect()
}

fn parse_versions(s: &str) -> Result<at_tls::Versions, String> {
    s.parse().map_err(|e: at_tls::UnknownVersion| e.to_string())
}

fn parse_ciphers(s: &str) -> Result<at_tls::Ciphers, String> {
    at_tls::Ciphers::parse(s).map_err(|e| e.to_string())
}

fn parse_profile(s: &str) -> Result<Profile, String> {
    s.parse()
        .map_err(|e: smtp_sink::UnknownProfile| e.to_string())
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    at_wire::duration::parse_or_secs(s)
        .map_err(|e| format!("bad duration `{s}`: {e} (e.g. 300s, 2m)"))
}

/// Resolves the flags into a sink configuration (reads the fault file).
fn resolve(args: &Args) -> miette::Result<SinkConfig> {
    let listen = match args.listen.as_str() {
        "none" | "" => None,
        a => Some(
            a.parse::<SocketAddr>()
                .map_err(|e| miette!("--listen `{a}`: {e}"))?,
        ),
    };
    let mut cfg = SinkConfig::new(args.profile)
        .hostname(args.hostname.clone())
        .listen(listen)
        .tls_listen(args.tls_listen)
        .api(args.api)
        .starttls(!args.no_starttls)
        .auth_mechanisms(args.auth_mechanisms.clone())
        .seed(args.seed)
        .max_connections(args.max_connections)
        .max_connections_per_address(args.max_connections_per_address);
    if args.require_auth {
        cfg = cfg.require_auth(true);
    }
    if let Some(v) = args.tls_versions {
        cfg = cfg.tls_versions(v);
    }
    if let Some(c) = &args.tls_ciphers {
        cfg = cfg.tls_ciphers(c.clone());
    }
    if let (Some(c), Some(k)) = (&args.cert, &args.key) {
        cfg = cfg.tls_pem(c, k);
    }
    if let Some(dir) = &args.store {
        cfg = cfg.store_dir(dir);
    }
    let mut accounts = Vec::new();
    for spec in &args.auth {
        // The message names the user only: never echo a password.
        let user = spec.split(':').next().unwrap_or_default();
        accounts.push(
            Account::parse(spec)
                .ok_or_else(|| miette!("--auth for `{user}`: expected USER:PASS"))?,
        );
    }
    if !accounts.is_empty() {
        cfg = cfg.auth(AuthPolicy::Accounts(accounts));
    }
    let mut script = FaultScript::new();
    if let Some(path) = &args.faults {
        let text = std::fs::read_to_string(path)
            .into_diagnostic()
            .wrap_err_with(|| format!("reading fault script {}", path.display()))?;
        script = script.extend_from_text(&text).into_diagnostic()?;
    }
    for d in &args.fault {
        script = script.extend_from_text(d).into_diagnostic()?;
    }
    cfg = cfg.faults(script);
    if args.idle_timeout.is_some()
        || args.write_timeout.is_some()
        || args.max_auth_failures.is_some()
    {
        let mut limits = args.profile.default_limits();
        if let Some(t) = args.idle_timeout {
            limits.idle_timeout = t;
        }
        if let Some(t) = args.write_timeout {
            limits.write_timeout = t;
        }
        if let Some(n) = args.max_auth_failures {
            limits.max_auth_failures = n;
        }
        cfg = cfg.limits(limits);
    }
    Ok(cfg)
}

fn say(line: &str) {
    // A closed stdout (e.g. `| head`) must not kill the sink.
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// Runs the sink until Ctrl-C.
pub fn run(args: Args) -> miette::Result<ExitCode> {
    if args.print_test_ca {
        print!("{}", at_tls::TEST_CA_PEM);
        return Ok(ExitCode::SUCCESS);
    }
    let users: Vec<String> = args
        .auth
        .iter()
        .map(|s| s.split(':').next().unwrap_or_default().to_string())
        .collect();
    let cfg = resolve(&args)?
        .on_message(|m| say(&format!("[sink] {}", m.summary_line())))
        .on_error(|e| {
            let _ = writeln!(std::io::stderr().lock(), "[sink] error: {e}");
        });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .into_diagnostic()?;
    rt.block_on(async move {
        // Signal handlers before the listeners: a SIGTERM is never the default (fatal) one.
        let stop = super::emulate::stop_signal();
        let sink = smtp_sink::Sink::bind(cfg).await.into_diagnostic()?;
        let show = |a: Option<SocketAddr>| a.map_or("-".to_string(), |a| a.to_string());
        say(&format!(
            "[sink] listening smtp={} smtps={} api={} profile={} auth={} store={}",
            show(sink.smtp_addr()),
            show(sink.smtps_addr()),
            show(sink.api_addr()),
            args.profile,
            if users.is_empty() {
                "any".to_string()
            } else {
                users.join(",")
            },
            args.store
                .as_ref()
                .map_or("-".to_string(), |p| p.display().to_string()),
        ));
        if sink.smtps_addr().is_some() || !args.no_starttls {
            let versions = args
                .tls_versions
                .unwrap_or_else(|| args.profile.tls_versions());
            let ciphers = args
                .tls_ciphers
                .clone()
                .unwrap_or_else(|| args.profile.tls_ciphers());
            let cert = if args.cert.is_some() {
                "given"
            } else {
                "generated, signed by the atconform test CA (--print-test-ca)"
            };
            say(&format!(
                "[sink] tls versions={versions} ciphers={ciphers} certificate={cert} library={}",
                at_tls::library_version()
            ));
        }
        if let Some(dir) = &args.store {
            let n = sink.store().reloaded();
            if n > 0 {
                say(&format!(
                    "[sink] store {}: {n} earlier message(s) loaded",
                    dir.display()
                ));
            }
        }
        if args.profile == Profile::TencentSes && sink.smtps_addr().is_none() {
            // ERRATA S1: the plain listener closes every connection under tencent-ses.
            say("[sink] note: tencent-ses serves only implicit TLS; add --tls-listen ADDR");
        }
        sink.run(stop).await.into_diagnostic()
    })?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Wrap {
        #[command(flatten)]
        args: Args,
    }

    fn parse(argv: &[&str]) -> Args {
        Wrap::try_parse_from(std::iter::once("sink").chain(argv.iter().copied()))
            .unwrap()
            .args
    }

    #[test]
    fn resolves_the_issue_example() {
        let a = parse(&[
            "--listen",
            "127.0.0.1:2525",
            "--tls-listen",
            "127.0.0.1:2465",
            "--profile",
            "tencent-ses",
            "--auth",
            "user:pa:ss",
            "--api",
            "127.0.0.1:8025",
            "--fault",
            "rcpt=550",
            "--idle-timeout",
            "2m",
        ]);
        assert_eq!(a.profile, Profile::TencentSes);
        let cfg = resolve(&a).unwrap();
        let dbg = format!("{cfg:?}");
        assert!(dbg.contains("smtps: Some(127.0.0.1:2465)"), "{dbg}");
        assert!(dbg.contains("profile: TencentSes"), "{dbg}");
        assert!(!dbg.contains("pa:ss"), "password leaked: {dbg}");
    }

    #[test]
    fn rejects_bad_values_without_echoing_passwords() {
        assert!(Wrap::try_parse_from(["sink", "--profile", "gmail"]).is_err());
        let err = resolve(&parse(&["--auth", "nopassword"])).unwrap_err();
        assert!(format!("{err:?}").contains("nopassword"));
        let err = resolve(&parse(&["--fault", "rcpt=250"])).unwrap_err();
        assert!(format!("{err:?}").contains("400-599"), "{err:?}");
        assert!(resolve(&parse(&["--listen", "none", "--tls-listen", "127.0.0.1:0"])).is_ok());
        assert!(Wrap::try_parse_from(["sink", "--tls-versions", "1.4"]).is_err());
        assert!(Wrap::try_parse_from(["sink", "--tls-ciphers", "0x9999"]).is_err());
        let err = resolve(&parse(&["--fault", "tls=sometimes"])).unwrap_err();
        assert!(format!("{err:?}").contains("unknown TLS fault"), "{err:?}");
    }

    #[test]
    fn tls_restrictions_reach_the_config() {
        let a = parse(&[
            "--tls-versions",
            "1.0-1.1",
            "--tls-ciphers",
            "AES128-SHA",
            "--fault",
            "tls=client-cert",
        ]);
        assert_eq!(a.tls_versions.unwrap().to_string(), "TLSv1,TLSv1.1");
        assert!(resolve(&a).is_ok());
    }

    #[test]
    fn auth_mechanisms_parse() {
        assert_eq!(parse(&[]).auth_mechanisms, Mechanism::ALL.to_vec());
        assert_eq!(
            parse(&["--auth-mechanisms", "plain"]).auth_mechanisms,
            vec![Mechanism::Plain]
        );
        assert!(
            parse(&["--auth-mechanisms", "none"])
                .auth_mechanisms
                .is_empty()
        );
        let err = Wrap::try_parse_from(["sink", "--auth-mechanisms", "PLAIN,CRAM-MD5"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown AUTH mechanism `CRAM-MD5`"), "{err}");
    }
}
