"""Independent SMTP client for the sink's tests: Python's smtplib (stdlib only).

usage: smtplib_client.py MODE HOST PORT USER PASSWORD
MODE is plain, starttls or ssl (implicit TLS, as 003's Python sample with SMTP_SSL on 465).
Prints "ok" or "error <code> <text>" and exits 0 either way; exits 2 on usage errors.
"""
import smtplib
import ssl
import sys
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr


def main():
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    mode, host, port, user, password = sys.argv[1:]
    port = int(port)
    # As in 003's Python sample: multipart/alternative, UTF-8 subject and HTML body.
    message = MIMEMultipart("alternative")
    message["Subject"] = Header("测试主题 " + mode, "UTF-8")
    message["From"] = formataddr(["测试别名", user])
    message["To"] = "x1@example.com,x2@example.com"
    message.attach(MIMEText("<h1>我的第一个标题</h1>", _subtype="html", _charset="UTF-8"))
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        if mode == "ssl":
            client = smtplib.SMTP_SSL(host, port, context=context, timeout=10)
        else:
            client = smtplib.SMTP(host, port, timeout=10)
            if mode == "starttls":
                client.starttls(context=context)
        client.login(user, password)
        client.sendmail(user, ["x1@example.com", "x2@example.com"], message.as_string())
        client.quit()
        print("ok")
    except smtplib.SMTPResponseException as e:
        print("error", e.smtp_code, e.smtp_error.decode("utf-8", "replace"))
    except (smtplib.SMTPException, OSError) as e:
        print("error", type(e).__name__, e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
