// The QuickFIX side of fix-bench: times QuickFIX's C++ parse, validate and serialize of the messages
// fix-bench gives it, in the same run, so the two engines are compared on the same bytes and machine.
// Written for this project; it is compiled at benchmark time against QuickFIX's sources from the
// `quickfix` package on PyPI (Benchmarks/quickfix-harness/build), which are never committed here.
//
// usage: quickfix-harness DICTIONARY.xml MESSAGES_FILE ITERATIONS
//   MESSAGES_FILE holds one message per line, SOH as is; prints one JSON line per message.
#include "DataDictionary.h"
#include "Message.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

static double nanosecondsPerCall(long iterations, const std::chrono::steady_clock::time_point& start) {
    auto elapsed = std::chrono::steady_clock::now() - start;
    return std::chrono::duration<double, std::nano>(elapsed).count() / double(iterations);
}

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: quickfix-harness DICTIONARY.xml MESSAGES_FILE ITERATIONS\n");
        return 2;
    }
    FIX::DataDictionary dictionary(argv[1]);
    long iterations = std::stol(argv[3]);
    std::ifstream input(argv[2]);
    std::vector<std::string> messages;
    for (std::string line; std::getline(input, line);) {
        if (!line.empty()) messages.push_back(line);
    }
    for (const std::string& text : messages) {
        // Warm up, and check the message is valid, so that the timed loops measure the happy path.
        FIX::Message check(text, dictionary, true);
        dictionary.validate(check);

        auto start = std::chrono::steady_clock::now();
        for (long i = 0; i < iterations; ++i) {
            FIX::Message message(text, dictionary, true);
            dictionary.validate(message);
        }
        double parseValidate = nanosecondsPerCall(iterations, start);

        start = std::chrono::steady_clock::now();
        for (long i = 0; i < iterations; ++i) {
            FIX::Message message(text, dictionary, true);
        }
        double parseOnly = nanosecondsPerCall(iterations, start);

        std::string out;
        start = std::chrono::steady_clock::now();
        for (long i = 0; i < iterations; ++i) {
            check.toString(out);
        }
        double serialize = nanosecondsPerCall(iterations, start);
        if (out != text) std::fprintf(stderr, "note: QuickFIX re-serialized a message differently\n");
        std::string type = check.getHeader().getField(35);
        std::printf("{\"msg_type\": \"%s\", \"parse_validate_ns\": %.1f, \"parse_ns\": %.1f, \"serialize_ns\": %.1f}\n",
                    type.c_str(), parseValidate, parseOnly, serialize);
    }
    return 0;
}
