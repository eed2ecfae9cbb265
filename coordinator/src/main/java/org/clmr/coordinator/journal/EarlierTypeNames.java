package org.clmr.coordinator.journal;

import akka.serialization.jackson.JacksonMigration;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * Reads journal rows and snapshots written under the class names events and states had before they moved
 * from {@code org.clmr.coordinator} to this package (and before the event {@code CheckpointCommitted} became
 * {@link CoordinatorEvent.CheckpointRecorded}). Akka's Jackson serializer stores the class name as the
 * manifest; {@code reference.conf} maps each earlier name to this migration, which names the class to read
 * it as. The JSON itself is unchanged (the {@code type} and {@code phase} names stayed), so it passes as is.
 * Called by Akka's serializer on whichever thread deserializes (recovery, snapshot load).
 */
public final class EarlierTypeNames extends JacksonMigration {
    private static final String EARLIER_PACKAGE = "org.clmr.coordinator.";

    /** Rows written with the earlier names count as version 1; rows written now carry the new names. */
    @Override
    public int currentVersion() {
        return 2;
    }

    /** The class an earlier name is read as. */
    @Override
    public String transformClassName(int fromVersion, String className) {
        if (!className.startsWith(EARLIER_PACKAGE + "Coordinator")) {
            return className;
        }
        String moved = EarlierTypeNames.class.getPackageName() + "." + className.substring(EARLIER_PACKAGE.length());
        return moved.equals(CoordinatorEvent.class.getName() + "$CheckpointCommitted")
                ? CoordinatorEvent.CheckpointRecorded.class.getName() : moved;
    }

    /** The stored JSON of an earlier version, unchanged: only the class names moved. */
    @Override
    public JsonNode transform(int fromVersion, JsonNode json) {
        return json;
    }
}
