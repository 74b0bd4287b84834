"""An application that drives a module through pyserial, as a lab script would: the 000 §3.1
(plain) and §3.2 (SSL) send flows and the §2.2.4 body ended by +++ (000 §1.3 guard times).

usage: record_app.py PORT FLOW     FLOW: 3.1 | 3.2 | 2.2.4
Exits 1 if the module does not answer as the manual shows.
"""

import re
import sys
import time

import serial

FINAL = re.compile(rb"\r\n(OK|ERROR|CONNECT|\+CME ERROR: [0-9]+)\r\n")


def main():
    port, flow = sys.argv[1], sys.argv[2]
    s = serial.Serial(port, 115200, timeout=0.05)

    def read_until(done, timeout):
        buf = b""
        end = time.time() + timeout
        while time.time() < end:
            buf += s.read(256)
            if done(buf):
                return buf
        sys.exit("no answer in time, got %r" % buf)

    def cmd(line, timeout=10.0):
        s.write(line.encode() + b"\r")
        buf = read_until(lambda b: FINAL.search(b) is not None, timeout)
        if FINAL.search(buf).group(1) not in (b"OK", b"CONNECT"):
            sys.exit("%s: %r" % (line, buf))
        return buf

    def body_with_escape(data):
        s.write(data)
        time.sleep(1.5)  # 000 §1.3: no data for at least 1 s before +++
        s.write(b"+++")
        time.sleep(1.5)  # ... and after it
        buf = read_until(lambda b: b.endswith(b"OK\r\n"), 5.0)
        want = b"+QSMTPBODY: %d\r\n" % len(data)
        if want not in buf:
            sys.exit("body: %r" % buf)

    if flow == "2.2.4":
        cmd('AT+QSMTPBODY=0,100,120')
        body_with_escape(b"0123456789" * 9)  # <Input 90 bytes data>
        return
    cmd('AT+QICSGP=1,1,"UNINET","","",1')
    cmd('AT+QIACT=1')
    cmd('AT+QIACT?')
    cmd('AT+QSMTPCFG="contextid",1')
    if flow == "3.1":
        cmd('AT+QSMTPCFG="ssltype",0')
    else:
        cmd('AT+QSMTPCFG="ssltype",1')
        cmd('AT+QSMTPCFG="sslctxid",1')
        cmd('AT+QSSLCFG="ciphersuite",1,0xffff')
        cmd('AT+QSSLCFG="seclevel",1,0')
        cmd('AT+QSSLCFG="sslversion",1,1')
    cmd('AT+QSMTPCFG="smtpserver","smtp.163.com",25')
    cmd('AT+QSMTPCFG="account","sishen664551","wq664551"')
    cmd('AT+QSMTPCFG="sender","sishen664551","sishen664551@163.com"')
    cmd('AT+QSMTPDST=1,1,"quectel_test@163.com"')
    cmd('AT+QSMTPDST=1,2,"quectel_test@21cn.com"')
    cmd('AT+QSMTPSUB=0,"TEST SMTP"')
    cmd('AT+QSMTPBODY=0,100,120')
    body_with_escape(b"Sent by a pyserial application.\r\n")
    if flow == "3.1":
        # 000 §3.1: a 100-byte attachment uploaded to RAM, ended by its length.
        s.write(b'AT+QFUPL="RAM:smtp1.txt",100,200,1\r')
        read_until(lambda b: b.endswith(b"CONNECT\r\n"), 5.0)
        s.write(bytes(range(100)))
        buf = read_until(lambda b: b.endswith(b"OK\r\n"), 5.0)
        if b"+QFUPL: 100," not in buf:
            sys.exit("upload: %r" % buf)
        cmd('AT+QSMTPATT=1,1,"RAM:smtp1.txt"')
    buf = cmd('AT+QSMTPPUT=300')
    if b"+QSMTPPUT:" not in buf:
        buf += read_until(lambda b: b"+QSMTPPUT:" in b and b.endswith(b"\r\n"), 30.0)
    if b"+QSMTPPUT: 0,0" not in buf:
        sys.exit("send: %r" % buf)
    cmd('AT+QSMTPCLR')
    if flow == "3.1":
        cmd('AT+QFDEL="RAM:smtp1.txt"')
    cmd('AT+QIDEACT=1')


if __name__ == "__main__":
    main()
