//! `--resolve` entries and fault names: what parses, what does not, and round trips.

use at_mailer::{NetFault, ResolveMap, Stage};

#[test]
fn resolve_entries() {
    let mut map = ResolveMap::new();
    assert!(map.is_empty());
    map.add("smtp.163.com:25=127.0.0.1:2525").expect("v4");
    map.add("[::1]:465=[::1]:2465").expect("v6 both sides");
    map.add("smtp.163.com:25=127.0.0.1:2526")
        .expect("later entry replaces");
    assert_eq!(
        map.lookup("SMTP.163.COM", 25),
        Some("127.0.0.1:2526".parse().expect("addr"))
    );
    assert_eq!(
        map.lookup("::1", 465),
        Some("[::1]:2465".parse().expect("addr"))
    );
    assert_eq!(map.lookup("smtp.163.com", 465), None);
    for (bad, reason) in [
        ("smtp.163.com:25", "missing '='"),
        ("smtp.163.com=127.0.0.1:25", "missing ':' in HOST:PORT"),
        (":25=127.0.0.1:25", "empty host"),
        ("smtp.163.com:99999=127.0.0.1:25", "bad port"),
        ("smtp.163.com:25=localhost:25", "bad IP:PORT target"),
    ] {
        let err = map.add(bad).expect_err(bad);
        assert_eq!(err.reason, reason, "{bad}");
        assert!(err.to_string().contains("HOST:PORT=IP:PORT"));
    }
}

#[test]
fn fault_and_stage_names_round_trip() {
    for stage in Stage::ALL {
        assert_eq!(stage.name().parse::<Stage>(), Ok(stage));
        for fault in [NetFault::Reset { stage }, NetFault::Stall { stage }] {
            assert_eq!(fault.to_string().parse::<NetFault>(), Ok(fault), "{fault}");
        }
    }
    assert_eq!("dns".parse(), Ok(NetFault::Dns));
    assert_eq!("refused".parse(), Ok(NetFault::Refused));
    assert_eq!(
        "reset-mid-data".parse(),
        Ok(NetFault::Reset { stage: Stage::Body })
    );
    assert_eq!(
        "stall".parse(),
        Ok(NetFault::Stall {
            stage: Stage::Greeting
        })
    );
    for bad in [
        "",
        "stall@",
        "stall@nowhere",
        "reset",
        "explode@body",
        "DNS",
    ] {
        assert!(bad.parse::<NetFault>().is_err(), "{bad:?}");
    }
}
