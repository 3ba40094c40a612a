import FIXCodec
import FIXSession
import Testing

@Suite struct FIXSessionTests {
    @Test func acceptorAnswersLogonTakingTheCounterpartysHeartbeatInterval() {
        var harness = SessionHarness()
        let actions = harness.logOn(heartBtInt: 5)
        #expect(actions.summary == ["35=A|34=1|98=0|108=5"])
        #expect(actions.contains { if case .loggedOn = $0 { true } else { false } })
        #expect(harness.session.isLoggedOn)
        #expect(harness.session.expectedTargetSeqNum == 2)
    }

    @Test func sendsHeartbeatsThenATestRequestThenDisconnectsASilentCounterparty() {
        var harness = SessionHarness()
        _ = harness.logOn(heartBtInt: 10)
        harness.advance(seconds: 9)
        #expect(harness.session.timerFired(at: harness.now).sent.isEmpty)
        harness.advance(seconds: 1)
        #expect(harness.session.timerFired(at: harness.now).summary == ["35=0|34=2"])
        harness.advance(seconds: 2)
        #expect(harness.session.timerFired(at: harness.now).summary == ["35=1|34=3|112=TEST"])
        harness.advance(seconds: 12)
        #expect(harness.session.timerFired(at: harness.now).disconnects)
        #expect(!harness.session.isLoggedOn)
    }

    @Test func answersATestRequestWithItsID() {
        var harness = SessionHarness()
        _ = harness.logOn()
        #expect(harness.receive("1", 2, "112=PING|").summary == ["35=0|34=2|112=PING"])
    }

    @Test func queuesMessagesAfterAGapAndDeliversThemInOrderOnceTheGapIsFilled() {
        var harness = SessionHarness()
        _ = harness.logOn()
        let order = "11=A|21=1|40=1|54=1|55=X|60=20261203-12:00:00|"
        #expect(harness.receive("D", 4, order).summary == ["35=2|34=2|7=2|16=0"])
        #expect(harness.session.expectedTargetSeqNum == 2)
        #expect(harness.receive("D", 2, order.replacing("11=A", with: "11=B")).delivered.map { $0[11] } == ["B"])
        let afterGap = harness.receive("D", 3, order.replacing("11=A", with: "11=C"))
        #expect(afterGap.delivered.map { $0[11] } == ["C", "A"])
        #expect(harness.session.expectedTargetSeqNum == 5)
    }

    @Test func logsOutWhenASequenceNumberIsTooLowWithoutPossDup() {
        var harness = SessionHarness()
        _ = harness.logOn()
        _ = harness.receive("0", 2)
        let actions = harness.receive("0", 2)
        #expect(actions.summary == ["35=5|34=2|58=MsgSeqNum too low, expecting 3 but received 2"])
        #expect(actions.disconnects)
    }

    @Test func ignoresAPossDupDuplicateButRejectsOneWithoutOrigSendingTime() {
        var harness = SessionHarness()
        _ = harness.logOn()
        _ = harness.receive("0", 2)
        #expect(harness.receive("0", 2, "43=Y|122=\(harness.now.text)|").sent.isEmpty)
        let order = "43=Y|11=A|21=1|40=1|54=1|55=X|60=20261203-12:00:00|"
        let rejected = harness.receive("D", 2, order)
        #expect(rejected.summary.first?.hasPrefix("35=3|34=2|45=2|58=Required tag missing|371=122|372=D|373=1") == true)
        #expect(rejected.delivered.isEmpty)
    }

    @Test func resendsStoredApplicationMessagesAndGapFillsSessionMessages() throws {
        var harness = SessionHarness()
        _ = harness.logOn()
        var report = FIXMessage(msgType: "D")
        for (tag, value) in [(11, "A"), (21, "1"), (40, "1"), (54, "1"), (55, "X"), (60, "20261203-12:00:00")] {
            report.append(tag, value)
        }
        _ = harness.session.send(report, at: harness.now)  // 2
        harness.advance(seconds: 30)
        _ = harness.session.timerFired(at: harness.now)  // heartbeat 3
        _ = harness.session.send(report, at: harness.now)  // 4
        let answer = harness.receive("2", 2, "7=1|16=0|")
        let summary = answer.summary
        #expect(summary.count == 4)
        #expect(summary[0].hasPrefix("35=4|34=1|43=Y|122=") && summary[0].hasSuffix("|36=2|123=Y"))
        #expect(
            summary[1].hasPrefix("35=D|34=2|43=Y|122=")
                && summary[1].hasSuffix("|11=A|21=1|40=1|54=1|55=X|60=20261203-12:00:00"))
        #expect(summary[2].hasPrefix("35=4|34=3|43=Y|122=") && summary[2].hasSuffix("|36=4|123=Y"))
        #expect(summary[3].hasPrefix("35=D|34=4|43=Y|"))
        #expect(harness.session.nextSenderSeqNum == 5)
    }

    @Test func keepsSequenceNumbersAcrossConnectionsWithoutResetOnLogon() {
        var harness = SessionHarness()
        _ = harness.logOn()
        _ = harness.receive("0", 2)
        _ = harness.session.disconnected(at: harness.now)
        _ = harness.session.connected(at: harness.now)
        #expect(harness.receive("A", 3, "98=0|108=30|").summary == ["35=A|34=2|98=0|108=30"])
        #expect(harness.session.expectedTargetSeqNum == 4)
    }

    @Test func initiatorLogsOnAndDisconnectsWhenNoAnswerComesInTime() {
        var harness = SessionHarness(role: .initiator) { $0.heartBtInt = 20 }
        #expect(harness.session.connected(at: harness.now).summary == ["35=A|34=1|98=0|108=20"])
        harness.advance(seconds: 10)
        #expect(harness.session.timerFired(at: harness.now).disconnects)
    }

    @Test func rejectsAnUnsupportedApplicationMessageWithABusinessReject() {
        var harness = SessionHarness { $0.applicationMessageTypes = ["D"] }
        _ = harness.logOn()
        let actions = harness.receive("8", 2, "6=0|11=A|14=0|17=E|20=0|37=O|39=0|54=1|55=X|150=0|151=0|")
        #expect(actions.summary == ["35=j|34=2|45=2|58=Unsupported Message Type|372=8|380=3"])
        #expect(harness.session.expectedTargetSeqNum == 3)
    }

    @Test func garbledBytesBeforeLogonDisconnectButAfterLogonAreIgnored() {
        var harness = SessionHarness()
        _ = harness.session.connected(at: harness.now)
        #expect(
            harness.session.received(Array("8=FIX.4.2\u{1}9=5\u{1}35=0\u{1}10=000\u{1}".utf8), at: harness.now)
                .disconnects)
        _ = harness.logOn()
        #expect(
            !harness.session.received(Array("8=FIX.4.2\u{1}9=5\u{1}35=0\u{1}10=000\u{1}".utf8), at: harness.now)
                .disconnects)
        #expect(harness.session.isLoggedOn)
    }
}
