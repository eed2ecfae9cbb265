package org.clmr.worker.collective;

import org.junit.jupiter.api.Test;

import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The refusal itself needs a narrow link: NetworkClusterTest puts a worker on one (h3 at MTU 1200). */
class LinkMtuTest {
    @Test
    void shouldNameTheLargestMultipleOf32WhoseDatagramsFitTheLink() {
        assertEquals(OptionalInt.of(1472), LinkMtu.largestAeronMtu(1500));
        assertEquals(OptionalInt.of(1152), LinkMtu.largestAeronMtu(1200));
        assertEquals(OptionalInt.of(65504), LinkMtu.largestAeronMtu(65536));
        assertEquals(OptionalInt.empty(), LinkMtu.largestAeronMtu(1000), "below Aeron's smallest MTU");
    }

    @Test
    void shouldPassTheDefaultMtusOnLoopback() {
        assertDoesNotThrow(() -> LinkMtu.check("127.0.0.1", 1408));
        assertDoesNotThrow(() -> LinkMtu.check("127.0.0.1", 65504));
    }

    @Test
    void shouldLeaveAnAddressOfNoLocalInterfaceToTheBind() {
        assertDoesNotThrow(() -> LinkMtu.check("0.0.0.0", 65504));
    }
}
