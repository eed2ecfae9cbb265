package org.clmr.protocol;

/**
 * Marker for every message that crosses an actor-system boundary. Bound to Akka's {@code jackson-cbor}
 * serializer in this module's reference.conf; nothing else is serialized with Java serialization.
 */
public interface CborSerializable {
}
