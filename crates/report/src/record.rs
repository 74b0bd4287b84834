//! `atconform record`: a tap between a host application and a module (like interceptty). The
//! application opens a PTY link; bytes pass through unchanged both ways and are recorded with
//! timestamps in the runner's transcript format, passwords redacted.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use at_runner::Direction;

/// Bytes recorded by a [`Tap`], with their time since the tap opened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recording {
    /// `(time, direction, bytes)`, in arrival order.
    pub chunks: Vec<(Duration, Direction, Vec<u8>)>,
}

impl Recording {
    /// Records one chunk.
    pub fn push(&mut self, at: Duration, dir: Direction, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.chunks.push((at, dir, bytes.to_vec()));
        }
    }

    /// All bytes in one direction.
    pub fn stream(&self, dir: Direction) -> Vec<u8> {
        self.chunks
            .iter()
            .filter(|(_, d, _)| *d == dir)
            .flat_map(|(_, _, b)| b.iter().copied())
            .collect()
    }

    /// The runner's transcript format (`[   0.012345] > AT\r`), passwords (`AT+QSMTPCFG=
    /// "account"`, `AT#SMTPPW`) replaced by `<redacted>`.
    pub fn render(&self) -> String {
        let tx = self.stream(Direction::Tx);
        let mut secrets: Vec<String> = Vec::new();
        for line in tx.split(|&b| b == b'\r') {
            for s in at_runner::transcript::secrets_in_command(line) {
                let e = at_runner::escape(&s);
                if !secrets.contains(&e) {
                    secrets.push(e);
                }
            }
        }
        let mut out = String::new();
        for (at, dir, bytes) in &self.chunks {
            let arrow = match dir {
                Direction::Tx => '>',
                Direction::Rx => '<',
            };
            let mut text = at_runner::escape(bytes);
            for s in &secrets {
                text = text.replace(s.as_str(), "<redacted>");
            }
            out.push_str(&format!("[{:>11.6}] {arrow} {text}\n", at.as_secs_f64()));
        }
        out
    }
}

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
    /// chunk as it passes (for live display). Returns the recording.
    pub fn run(
        &mut self,
        stop: &AtomicBool,
        mut on_chunk: impl FnMut(Duration, Direction, &[u8]),
    ) -> std::io::Result<Recording> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        let start = Instant::now();
        let mut rec = Recording::default();
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
                rec.push(at, Direction::Tx, bytes);
                on_chunk(at, Direction::Tx, bytes);
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
                rec.push(at, Direction::Rx, bytes);
                on_chunk(at, Direction::Rx, bytes);
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
