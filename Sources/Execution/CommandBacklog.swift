/// Broker events and results that came in a burst larger than one batch takes, oldest first.
///
/// One quote through many resting orders, or a broker's replay after a reconnect, can bring tens of
/// thousands of events at once. Handled as one batch, they held the engine's thread, which also reads the
/// control socket, for seconds: 100 000 paper fills took 2.5–4.7 s, and no request was read, let alone
/// answered, meanwhile — a cancel, a halt or a `status` waited behind the whole burst. So a batch takes at
/// most `slice` of the engine's own commands (broker events and results, reconciliation ticks, the end
/// of an adapter's events), keeps the rest here in their order, and takes every request waiting after
/// them. The engine commits each slice and lets its event loop read the sockets before the next one
/// (`ExecutionEngine.drain`); requests read meanwhile are taken in a batch of their own, without a slice,
/// and the next slice waits for its timer — which requests cannot hold off, since each slice has one.
///
/// Order: the engine's own commands keep their order among themselves, and requests theirs. Within a
/// batch taken while a burst waits, a request is handled after the slice's broker events, some of which
/// may have arrived after it; it is never held behind more than one slice. A request thus meets the
/// state as it stands some broker events into the burst, as it would have had those events come over
/// the wire a moment later: no order can reach a broker before the journal holds it, and every limit is
/// checked against everything journaled so far.
struct CommandBacklog {
    private var waiting: [Command] = []
    /// Where the oldest waiting command is in `waiting`: taking a slice moves it, not the array.
    private var head = 0

    var isEmpty: Bool { head == waiting.count }
    var count: Int { waiting.count - head }

    /// The next batch out of `arrived` (everything the inbox held) and what waits here. With nothing
    /// waiting and at most `slice` of the engine's own commands arrived, that is `arrived` as it is;
    /// otherwise the oldest `slice` of the engine's own commands (none when `takeSlice` is false and some
    /// already wait), then every request that arrived.
    mutating func batch(from arrived: [Command], slice: Int, takeSlice: Bool = true) -> [Command] {
        if isEmpty, Self.ownCount(arrived, atMost: slice) <= slice { return arrived }
        var batch: [Command] = []
        var requests: [Command] = []
        if isEmpty {
            // The first slice is taken in arrival order, requests among it included.
            var own = 0
            for command in arrived {
                if command.isInternal {
                    if own < slice {
                        own += 1
                        batch.append(command)
                    } else {
                        waiting.append(command)
                    }
                } else if own < slice {
                    batch.append(command)
                } else {
                    requests.append(command)
                }
            }
        } else {
            for command in arrived {
                if command.isInternal { waiting.append(command) } else { requests.append(command) }
            }
            if takeSlice {
                let end = head + min(slice, count)
                batch.append(contentsOf: waiting[head..<end])
                head = end
            }
        }
        batch.append(contentsOf: requests)
        compact()
        return batch
    }

    /// Everything waiting, oldest first, leaving nothing: for a stop that fails what is left.
    mutating func takeAll() -> [Command] {
        defer {
            waiting = []
            head = 0
        }
        return Array(waiting[head...])
    }

    /// Frees the taken part once it is most of the array (or all of it).
    private mutating func compact() {
        if isEmpty {
            waiting.removeAll()
            head = 0
        } else if head > 4_096, head > waiting.count / 2 {
            waiting.removeFirst(head)
            head = 0
        }
    }

    /// How many of `commands` are the engine's own, counting no further than one past `limit`.
    private static func ownCount(_ commands: [Command], atMost limit: Int) -> Int {
        var own = 0
        for command in commands where command.isInternal {
            own += 1
            if own > limit { break }
        }
        return own
    }
}
