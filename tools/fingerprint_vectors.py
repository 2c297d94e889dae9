#!/usr/bin/env python3
# Independent check of the account-layer vectors of spec/fingerprint.md section 8 (hashlib BLAKE2b, a hand-written
# SipHash-2-4-128, AES from the cryptography package). Prints the subkeys, nonce, position and marks.
import hashlib, struct
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
secret = bytes(range(32))
def subkey(ctx, purpose, index=0, n=16):
    sid = (purpose << 48) | index
    return hashlib.blake2b(b'', key=secret, digest_size=n, salt=struct.pack('<Q', sid) + bytes(8), person=ctx + bytes(8)).digest()
assert subkey(b'tt-kgw01',1).hex()=='c85594aedc6133c63f42312ef280abba'
M=(1<<64)-1
def rotl(x,b): return ((x<<b)|(x>>(64-b)))&M
def siphash128(key,msg):
    k0,k1=struct.unpack('<QQ',key)
    v0=k0^0x736f6d6570736575; v1=k1^0x646f72616e646f6d; v2=k0^0x6c7967656e657261; v3=k1^0x7465646279746573
    v1^=0xee
    def rnd():
        nonlocal v0,v1,v2,v3
        v0=(v0+v1)&M; v1=rotl(v1,13); v1^=v0; v0=rotl(v0,32)
        v2=(v2+v3)&M; v3=rotl(v3,16); v3^=v2
        v0=(v0+v3)&M; v3=rotl(v3,21); v3^=v0
        v2=(v2+v1)&M; v1=rotl(v1,17); v1^=v2; v2=rotl(v2,32)
    b=len(msg)<<56
    full=len(msg)//8*8
    for i in range(0,full,8):
        m=struct.unpack('<Q',msg[i:i+8])[0]; v3^=m; rnd(); rnd(); v0^=m
    tail=msg[full:]
    for i,c in enumerate(tail): b|=c<<(8*i)
    v3^=b; rnd(); rnd(); v0^=b
    v2^=0xee
    for _ in range(4): rnd()
    w1=v0^v1^v2^v3
    v1^=0xdd
    for _ in range(4): rnd()
    w2=v0^v1^v2^v3
    return struct.pack('<QQ',w1,w2)
# check against spec worked example (KGW)
kseed=subkey(b'tt-kgw01',1)
msg=b'L'+b''.join(struct.pack('<i',t) for t in [403,407,261,378])
assert siphash128(kseed,msg).hex()=='a8ac4cd2764d76dc03739315'+ '2b3ef69c', siphash128(kseed,msg).hex()
fs=subkey(b'tt-fpr01',1); fa=subkey(b'tt-fpr01',3)
print('fingerprint seeder',fs.hex(),'account keystream',fa.hex())
h=siphash128(fs,msg); nonce=h[:12]; pos=struct.unpack('<Q',h[:8])[0]&0xffff
print('nonce',nonce.hex(),'position',pos)
enc=Cipher(algorithms.AES(fa),modes.ECB()).encryptor()
def bit(t):
    blk=t//128; off=t%128
    b=enc.update(nonce+struct.pack('>I',blk))
    return (b[off//8]>>(off%8))&1
for t in [0,2,4,5,261,100000]: print(t,bit(t),(pos<<1)|bit(t))
# The account code: GF(2^8) mod 0x11b, symbol = P(x) with the id's bytes as coefficients (least significant first).
def mul(a, b):
    r = 0
    for _ in range(8):
        if b & 1: r ^= a
        b >>= 1; a <<= 1
        if a & 0x100: a ^= 0x11b
    return r
def symbol(account, x):
    c = [(account >> (8 * k)) & 255 for k in range(4)]
    r = c[3]
    for k in (2, 1, 0): r = mul(r, x) ^ c[k]
    return r
for account, x in [(0x04030201, 0), (0x04030201, 1), (0x04030201, 2), (0x04030201, 255), (4000000000, 7)]:
    print('symbol', hex(account), x, hex(symbol(account, x)))
