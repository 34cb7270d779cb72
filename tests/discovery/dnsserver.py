"""A small authoritative DNS server for tests: UDP and TCP on 127.0.0.1, records from a dict.

It answers from ``records`` (name -> list of (type, ttl, rdata text)), follows CNAMEs inside the dict,
answers NXDOMAIN for unknown names, truncates UDP answers that do not fit the client's payload (so the
client retries over TCP), counts every query, and can be told to go silent or to answer SERVFAIL.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import struct
from dataclasses import dataclass, field
from typing import cast

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

Record = tuple[str, int, str]  # (type, ttl, rdata text)


class Behaviour(enum.Enum):
    ANSWER = "answer"
    SILENT = "silent"
    SERVFAIL = "servfail"


@dataclass
class Query:
    name: str
    rdtype: str
    transport: str


@dataclass
class DnsServer:
    records: dict[str, list[Record]] = field(default_factory=dict)
    behaviour: Behaviour = Behaviour.ANSWER
    queries: list[Query] = field(default_factory=list)
    port: int = 0
    _udp: asyncio.DatagramTransport | None = None
    _tcp: asyncio.Server | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def add(self, name: str, rdtype: str, ttl: int, text: str) -> None:
        self.records.setdefault(name.lower().rstrip("."), []).append((rdtype.upper(), ttl, text))

    def count(self, name: str, rdtype: str | None = None) -> int:
        name = name.lower().rstrip(".")
        return sum(1 for q in self.queries if q.name == name and (rdtype is None or q.rdtype == rdtype))

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(20):  # the UDP port must also be free for TCP
            transport, _protocol = await loop.create_datagram_endpoint(
                lambda: _UdpProtocol(self), local_addr=("127.0.0.1", 0)
            )
            port = transport.get_extra_info("sockname")[1]
            try:
                self._tcp = await asyncio.start_server(self._serve_tcp, "127.0.0.1", port)
            except OSError:
                transport.close()
                continue
            self._udp, self.port = transport, port
            return
        raise RuntimeError("no port free for both UDP and TCP")

    async def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()

    def respond(self, wire: bytes, transport: str) -> tuple[dns.message.Message, int] | None:
        """The response to one query and the largest size the client takes over UDP (None: stay silent)."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        question = query.question[0]
        self.queries.append(
            Query(
                question.name.to_text(omit_final_dot=True).lower(),
                dns.rdatatype.to_text(question.rdtype),
                transport,
            )
        )
        if self.behaviour is Behaviour.SILENT:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        limit = max(query.payload, 512) if query.edns >= 0 else 512
        if self.behaviour is Behaviour.SERVFAIL:
            response.set_rcode(dns.rcode.SERVFAIL)
            return response, limit
        self._fill(response, question.name, question.rdtype)
        return response, limit

    def _fill(
        self, response: dns.message.Message, qname: dns.name.Name, rdtype: dns.rdatatype.RdataType
    ) -> None:
        name = qname
        for _ in range(8):  # follow CNAMEs inside the zone dict
            key = name.to_text(omit_final_dot=True).lower()
            entries = self.records.get(key)
            if entries is None:
                if name == qname:
                    response.set_rcode(dns.rcode.NXDOMAIN)
                return
            wanted = [e for e in entries if dns.rdatatype.from_text(e[0]) == rdtype]
            if wanted:
                rrset = dns.rrset.from_text_list(
                    name, wanted[0][1], dns.rdataclass.IN, rdtype, [e[2] for e in wanted]
                )
                response.answer.append(rrset)
                return
            cnames = [e for e in entries if e[0] == "CNAME"]
            if not cnames:
                return  # NODATA
            ttl, target = cnames[0][1], cnames[0][2]
            response.answer.append(
                dns.rrset.from_text(name, ttl, dns.rdataclass.IN, dns.rdatatype.CNAME, target)
            )
            name = dns.name.from_text(target)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                (length,) = struct.unpack("!H", await reader.readexactly(2))
                answered = self.respond(await reader.readexactly(length), "tcp")
                if answered is None:
                    continue
                wire = answered[0].to_wire(max_size=65535)
                writer.write(struct.pack("!H", len(wire)) + wire)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        answered = self.server.respond(data, "udp")
        if answered is None or self.transport is None:
            return
        response, limit = answered
        try:
            wire = response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            response.answer.clear()
            response.flags |= dns.flags.TC
            wire = response.to_wire()
        self.transport.sendto(wire, addr)
