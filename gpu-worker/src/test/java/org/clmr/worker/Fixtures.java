package org.clmr.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;

/** The torch reference fixtures of src/test/resources/fixtures (made by src/test/scripts). */
public final class Fixtures {
    private Fixtures() {
    }

    /** A fixture file's JSON. */
    public static JsonNode fixture(String name) throws IOException {
        try (InputStream in = Fixtures.class.getResourceAsStream("/fixtures/" + name)) {
            return new ObjectMapper().readTree(in);
        }
    }

    /** A JSON array of numbers as floats. */
    public static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) array.get(i).asDouble();
        }
        return out;
    }
}
