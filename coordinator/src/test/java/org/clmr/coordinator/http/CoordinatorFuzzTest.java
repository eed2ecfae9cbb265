package org.clmr.coordinator.http;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.clmr.protocol.fuzz.Multiplexer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

/**
 * The bounded fuzz run in {@code mvn verify} of the coordinator's outside input (docs/fuzzing.md): the HTTP control
 * and history requests ({@link ControlRequestFuzzTest}).
 */
@Tag("fuzz")
class CoordinatorFuzzTest {
    private static final Multiplexer TARGETS = new Multiplexer(List.of(
            new Multiplexer.Target("http-request", ControlRequestFuzzTest::check,
                    ControlRequestFuzzTest::requests)));

    static Stream<byte[]> seeds() {
        return TARGETS.seeds();
    }

    @MethodSource("seeds")
    @FuzzTest(maxDuration = "30s")
    void anyCoordinatorInput(byte[] input) {
        TARGETS.run(input);
    }

    @AfterAll
    static void report() {
        System.out.println(TARGETS.counts());
    }
}
