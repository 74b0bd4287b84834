"""A third-party SMTP server that speaks exactly one TLS version: aiosmtpd (PyPI) on Python's
`ssl` (the system OpenSSL), for the emulator's `sslversion` tests (000 §3.2, ERRATA E28).

Listens on 127.0.0.1 with two servers: plain SMTP offering STARTTLS, and implicit TLS (SMTPS),
both restricted to VERSION (1.0 or 1.2; TLS 1.0 needs OpenSSL security level 0). No AUTH is
required (AUTH is accepted as offered by aiosmtpd over TLS). Every accepted message is written to
OUT/<n>.eml after OUT/<n>.meta (lines `mail_from <addr>`, `tls_version <TLSv1|TLSv1.2>`,
`cipher <OpenSSL name>`). Prints "READY <plain_port> <tls_port>", then serves until stdin closes.

usage: python3 tls_only_peer.py VERSION CERT KEY OUT
"""

import asyncio
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult


def main() -> None:
    version, cert, key, out = sys.argv[1:5]
    v = {"1.0": ssl.TLSVersion.TLSv1, "1.2": ssl.TLSVersion.TLSv1_2}[version]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = v
    ctx.maximum_version = v
    if v < ssl.TLSVersion.TLSv1_2:
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    ctx.load_cert_chain(cert, key)
    counter = {"n": 0}

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            counter["n"] += 1
            tls = server.transport.get_extra_info("ssl_object")
            meta = [f"mail_from {envelope.mail_from}"]
            if tls is not None:
                meta.append(f"tls_version {tls.version()}")
                meta.append(f"cipher {tls.cipher()[0]}")
            base = os.path.join(out, str(counter["n"]))
            with open(base + ".meta", "w") as f:
                f.write("\n".join(meta) + "\n")
            with open(base + ".eml.tmp", "wb") as f:
                f.write(envelope.original_content)
            os.replace(base + ".eml.tmp", base + ".eml")
            return "250 OK message accepted"

    def authenticator(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=True)

    def factory(tls_context):
        return lambda: SMTP(
            Handler(),
            hostname="tls-only.test",
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
        await loop.run_in_executor(None, sys.stdin.read)
        plain.close()
        smtps.close()

    asyncio.run(run())


if __name__ == "__main__":
    main()
