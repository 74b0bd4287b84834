//! A tap between a host application and a module (like interceptty), for `atconform
//! record`: the application opens a PTY link; bytes pass through unchanged both ways and are
//! returned with their times (`at_report::record::Recording` renders them).

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::Direction;

/// Bytes that passed the tap: time since it started, direction, bytes.
pub type Chunk = (Duration, Direction, Vec<u8>);

/// The tap: the module's device and a PTY whose slave the application opens via a link.
#[derive(Debug)]
pub struct Tap {
    device: File,
    master: File,
    _slave: std::os::fd::OwnedFd,
    link: PathBuf,
    slave_path: PathBuf,
}

fn raw(fd: impl AsFd) -> std::io::Result<()> {
    use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
    let mut t = tcgetattr(&fd).map_err(std::io::Error::from)?;
    cfmakeraw(&mut t);
    tcsetattr(&fd, SetArg::TCSANOW, &t).map_err(std::io::Error::from)
}

impl Tap {
    /// Opens `device` (a serial port or PTY, put in raw mode) and a PTY pair whose slave
    /// (raw, kept open so the application may reopen it) is linked at `link`.
    pub fn open(device: &Path, link: &Path) -> std::io::Result<Tap> {
        let device = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(device)?;
        // A non-terminal device (a FIFO in tests) stays as it is.
        let _ = raw(&device);
        let pair = nix::pty::openpty(None, None).map_err(std::io::Error::from)?;
        raw(&pair.slave)?;
        let slave_path = nix::unistd::ttyname(&pair.slave).map_err(std::io::Error::from)?;
        if std::fs::symlink_metadata(link).is_ok_and(|m| m.file_type().is_symlink()) {
            std::fs::remove_file(link)?;
        }
        std::os::unix::fs::symlink(&slave_path, link)?;
        Ok(Tap {
            device,
            master: File::from(pair.master),
            _slave: pair.slave,
            link: link.to_path_buf(),
            slave_path,
        })
    }

    /// The PTY slave the link points at.
    pub fn slave_path(&self) -> &Path {
        &self.slave_path
    }

    /// Passes bytes both ways until `stop` is set or the device closes; `on_chunk` sees each
    /// chunk as it passes (for live display). Returns the chunks `(time since the start,
    /// direction, bytes)` in arrival order (empty reads left out).
    pub fn run(
        &mut self,
        stop: &AtomicBool,
        mut on_chunk: impl FnMut(Duration, Direction, &[u8]),
    ) -> std::io::Result<Vec<Chunk>> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        let start = Instant::now();
        let mut rec: Vec<Chunk> = Vec::new();
        let mut push = |at: Duration, dir: Direction, bytes: &[u8]| {
            if !bytes.is_empty() {
                rec.push((at, dir, bytes.to_vec()));
            }
            on_chunk(at, dir, bytes);
        };
        let mut buf = vec![0u8; 4096];
        while !stop.load(Ordering::Relaxed) {
            let (host_ready, dev_ready) = {
                let mut fds = [
                    PollFd::new(self.master.as_fd(), PollFlags::POLLIN),
                    PollFd::new(self.device.as_fd(), PollFlags::POLLIN),
                ];
                match poll(&mut fds, PollTimeout::from(50u8)) {
                    Ok(_) => {}
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(e) => return Err(e.into()),
                }
                let ready = |f: &PollFd<'_>| {
                    f.revents()
                        .is_some_and(|r| r.intersects(PollFlags::POLLIN | PollFlags::POLLHUP))
                };
                (ready(&fds[0]), ready(&fds[1]))
            };
            if host_ready {
                let n = self.master.read(&mut buf)?;
                let bytes = buf.get(..n).unwrap_or_default();
                let at = start.elapsed();
                self.device.write_all(bytes)?;
                push(at, Direction::Tx, bytes);
            }
            if dev_ready {
                let n = match self.device.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    // The module's PTY went away (EIO): the recording ends.
                    Err(e) if e.raw_os_error() == Some(nix::libc::EIO) => break,
                    Err(e) => return Err(e),
                };
                let bytes = buf.get(..n).unwrap_or_default();
                let at = start.elapsed();
                self.master.write_all(bytes)?;
                push(at, Direction::Rx, bytes);
            }
        }
        Ok(rec)
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        if std::fs::read_link(&self.link).is_ok_and(|t| t == self.slave_path) {
            let _ = std::fs::remove_file(&self.link);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use at_emulator::EmulatorConfig;
    use at_emulator::serve::{Pty, ResolveMap, ServeOptions};

    /// Reads from `f` until `want` has arrived (a safety bound of 5 s per read, not a timing
    /// check).
    fn read_until(f: &mut File, want: &[u8]) -> Vec<u8> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        let mut got = Vec::new();
        let mut buf = [0u8; 512];
        while !got.windows(want.len()).any(|w| w == want) {
            let mut fds = [PollFd::new(f.as_fd(), PollFlags::POLLIN)];
            let n = poll(&mut fds, PollTimeout::from(5000u16)).unwrap();
            assert!(n > 0, "no answer; got {:?}", String::from_utf8_lossy(&got));
            let n = f.read(&mut buf).unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        got
    }

    fn stream(chunks: &[Chunk], dir: Direction) -> Vec<u8> {
        chunks
            .iter()
            .filter(|(_, d, _)| *d == dir)
            .flat_map(|(_, _, b)| b.iter().copied())
            .collect()
    }

    #[test]
    fn tap_passes_and_records_both_directions_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let module_link = dir.path().join("module");
        let app_link = dir.path().join("app");

        // The module: the emulator on a PTY, real time.
        let pty = Pty::open(Some(&module_link)).unwrap();
        let opts = ServeOptions::new(EmulatorConfig::builtin("ec25").unwrap(), ResolveMap::new());
        let (stop_emu, stopped) = tokio::sync::oneshot::channel::<()>();
        let emu = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                pty.serve(&opts, async {
                    let _ = stopped.await;
                })
                .await
            })
            .unwrap();
            rt.shutdown_timeout(Duration::from_secs(1));
        });

        // The tap between them.
        let mut tap = Tap::open(&module_link, &app_link).unwrap();
        assert_eq!(std::fs::read_link(&app_link).unwrap(), tap.slave_path());
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let recorder = std::thread::spawn(move || {
            let mut seen = 0usize;
            let chunks = tap.run(&stop2, |_, _, b| seen += b.len()).unwrap();
            (chunks, seen)
        });

        // The application: 000 §2.2.3's example through the link.
        let mut app = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&app_link)
            .unwrap();
        let mut seen = Vec::new();
        for cmd in [
            "AT+QSMTPSUB=0,\"TEST SMTP\"\r",
            "AT+QSMTPSUB?\r",
            "AT+QSMTPSUB=1,\"7465737420534D5450\"\r",
            "AT+QSMTPSUB?\r",
        ] {
            app.write_all(cmd.as_bytes()).unwrap();
            seen.extend(read_until(&mut app, b"OK\r\n"));
        }
        stop.store(true, Ordering::Relaxed);
        let (chunks, shown) = recorder.join().unwrap();
        let _ = stop_emu.send(());
        emu.join().unwrap();

        // Bytes passed unchanged and were recorded exactly, both ways, in time order.
        assert_eq!(stream(&chunks, Direction::Rx), seen);
        assert_eq!(
            stream(&chunks, Direction::Tx),
            b"AT+QSMTPSUB=0,\"TEST SMTP\"\rAT+QSMTPSUB?\rAT+QSMTPSUB=1,\"7465737420534D5450\"\rAT+QSMTPSUB?\r"
        );
        assert!(
            seen.ends_with(b"AT+QSMTPSUB?\r\r\n+QSMTPSUB: 1,\"7465737420534D5450\"\r\n\r\nOK\r\n"),
            "{}",
            String::from_utf8_lossy(&seen)
        );
        assert!(chunks.iter().all(|(_, _, b)| !b.is_empty()));
        assert!(chunks.windows(2).all(|w| w[0].0 <= w[1].0));
        // The live view saw every byte recorded.
        assert_eq!(shown, chunks.iter().map(|(_, _, b)| b.len()).sum::<usize>());
        // The link goes when the tap does.
        assert!(std::fs::symlink_metadata(&app_link).is_err());
    }
}
