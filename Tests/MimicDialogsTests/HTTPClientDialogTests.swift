import MimicCore
import Testing

@testable import MimicDialogs

@Suite("HTTP client dialog")
struct HTTPClientDialogTests {
    @Test("HEAD / with Host, User-Agent and Connection: close; status and headers parsed")
    func head() throws {
        let actions = runStable(
            HTTPClientDialog(options: DialogOptions(mode: .implicit, host: "www.example.test")),
            [.server("HTTP/1.1 200 OK\r\nServer: mimic-mock\r\nX-Folded: a\r\n  b\r\nContent-Length: 0\r\n\r\n")]
        )
        #expect(
            actions.sent.joined()
                == "HEAD / HTTP/1.1\r\nHost: www.example.test\r\nUser-Agent: mimic\r\nConnection: close\r\n\r\n"
        )
        let summary = try #require(actions.summary)
        #expect(summary.httpStatus == 200)
        #expect(summary.httpReason == "OK")
        #expect(summary.httpHeaders.first == .init(name: "server", value: "mimic-mock"))
        #expect(summary.httpHeaders[1].value == "a b")
    }

    @Test("non-default port in Host; interim 103 then 301")
    func interim() throws {
        let actions = runStable(
            HTTPClientDialog(options: DialogOptions(mode: .implicit, host: "h.test", port: 8443)),
            [.server("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 301 Moved\r\nLocation: /x\r\n\r\n")]
        )
        #expect(actions.sent[1] == "Host: h.test:8443\r\n")
        #expect(try #require(actions.summary).httpStatus == 301)
    }

    @Test(
        "malformed status line, header, STARTTLS mode and early close fail",
        arguments: [
            "SSH-2.0-x\r\n", "HTTP/1.1 20 OK\r\n", "HTTP/2 200\r\n", "HTTP/1.1 200 OK\r\nno colon here\r\n",
        ]
    )
    func malformed(response: String) throws {
        let failure = try #require(runStable(HTTPClientDialog(), [.server(response)]).failure)
        #expect(failure.code == .unexpectedReply)
    }

    @Test("STARTTLS mode is refused; close before the end of headers is a failure")
    func otherFailures() throws {
        #expect(run(HTTPClientDialog(options: DialogOptions(mode: .startTLS)), []).failure?.code == .modeMismatch)
        #expect(run(HTTPClientDialog(), [.server("HTTP/1.1 200 OK\r\n"), .closed]).failure?.code == .closed)
        let many = run(
            HTTPClientDialog(),
            [.server("HTTP/1.1 200 OK\r\n" + String(repeating: "A: b\r\n", count: 1200))]
        )
        #expect(many.failure?.code == .unexpectedReply)
    }

    @Test("the factory makes each protocol's dialog")
    func factory() {
        for proto in ServiceProtocol.allCases {
            #expect(ClientDialogs.make(for: proto, options: DialogOptions()).serviceProtocol == proto)
        }
    }
}
