"""An independent SMTP peer for the emulator's end-to-end tests: aiosmtpd (PyPI).

Listens on 127.0.0.1 with two servers: plain SMTP offering STARTTLS, and implicit TLS (SMTPS).
AUTH PLAIN/LOGIN accepts only USER/PASS (also over plain text). Every accepted message is
written to OUT/<n>.eml (the raw bytes) after OUT/<n>.meta (lines `mail_from <addr>`,
`rcpt <addr>` per recipient, `tls 0|1`, `auth <user>`).
Prints "READY <plain_port> <tls_port>" on stdout, then serves until stdin closes.

usage: python3 aiosmtpd_peer.py CERT KEY OUT USER PASS
"""

import asyncio
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def main() -> None:
    cert, key, out, user, password = sys.argv[1:6]
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    counter = {"n": 0}

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            counter["n"] += 1
            meta = [f"mail_from {envelope.mail_from}"]
            meta += [f"rcpt {r}" for r in envelope.rcpt_tos]
            tls = (session.ssl is not None
                   or server.transport.get_extra_info("ssl_object") is not None)
            meta.append(f"tls {1 if tls else 0}")
            if isinstance(session.auth_data, LoginPassword):
                meta.append(f"auth {session.auth_data.login.decode()}")
            base = os.path.join(out, str(counter["n"]))
            with open(base + ".meta", "w") as f:
                f.write("\n".join(meta) + "\n")
            with open(base + ".eml.tmp", "wb") as f:
                f.write(envelope.original_content)
            os.replace(base + ".eml.tmp", base + ".eml")
            return "250 OK message accepted"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        # handled=False: let aiosmtpd answer the failure with 535 itself.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def factory(tls_context):
        return lambda: SMTP(
            Handler(),
            hostname="aiosmtpd.test",
            tls_context=tls_context,
            require_starttls=False,
            authenticator=authenticator,
            auth_require_tls=False,
            decode_data=False,
        )

    async def run() -> None:
        loop = asyncio.get_running_loop()
        plain = await loop.create_server(factory(ctx), "127.0.0.1", 0)
        smtps = await loop.create_server(factory(None), "127.0.0.1", 0, ssl=ctx)
        print(f"READY {plain.sockets[0].getsockname()[1]} {smtps.sockets[0].getsockname()[1]}",
              flush=True)
        # Serve until the test closes our stdin.
        await loop.run_in_executor(None, sys.stdin.read)
        plain.close()
        smtps.close()

    asyncio.run(run())


if __name__ == "__main__":
    main()
