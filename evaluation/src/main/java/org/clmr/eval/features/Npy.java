package org.clmr.eval.features;

import org.clmr.protocol.UserError;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy's {@code .npy} format (version 1.0) for 2-D little-endian float32 matrices, C order:
 * <pre>
 *  offset  size  field
 *  0       6     magic "\x93NUMPY"
 *  6       1     major version (1)
 *  7       1     minor version (0)
 *  8       2     header length H, uint16 little-endian
 *  10      H     ASCII dict {'descr': '&lt;f4', 'fortran_order': False, 'shape': (rows, cols), }, space-padded,
 *                ending in '\n', so that 10 + H is a multiple of 64
 *  10+H    4*rows*cols  the values, row-major, float32 little-endian
 * </pre>
 * {@code numpy.load} reads what {@link #write} writes; {@link #read} reads only this layout.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\((\\d+),\\s*(\\d+)\\)");

    private Npy() {
    }

    /** A row-major float32 matrix. */
    public record Matrix(int rows, int cols, float[] data) {
    }

    /** Writes {@code data} as a [rows, cols] float32 array (to a temporary name, then renamed). */
    public static void write(Path file, int rows, int cols, float[] data) throws IOException {
        if ((long) rows * cols != data.length) {
            throw new IllegalArgumentException(rows + " x " + cols + " needs " + (long) rows * cols + " values, got " + data.length);
        }
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + rows + ", " + cols + "), }";
        int unpadded = MAGIC.length + 4 + dict.length() + 1;
        int padding = (64 - unpadded % 64) % 64;
        String header = dict + " ".repeat(padding) + "\n";
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer head = ByteBuffer.allocate(10 + header.length()).order(ByteOrder.LITTLE_ENDIAN);
            head.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
            head.put(header.getBytes(StandardCharsets.US_ASCII)).flip();
            while (head.hasRemaining()) {
                ch.write(head);
            }
            ByteBuffer body = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < data.length; ) {
                body.clear();
                while (body.remaining() >= 4 && i < data.length) {
                    body.putFloat(data[i++]);
                }
                body.flip();
                while (body.hasRemaining()) {
                    ch.write(body);
                }
            }
            ch.force(true);
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Reads a 2-D little-endian float32 C-order .npy; anything else is a one-line {@link UserError}. */
    public static Matrix read(Path file) throws IOException {
        try (InputStream raw = Files.newInputStream(file); DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(raw, 1 << 20))) {
            byte[] magic = in.readNBytes(MAGIC.length);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw new UserError(file + ": not a .npy file (bad magic)");
            }
            int major = in.readUnsignedByte();
            in.readUnsignedByte();
            if (major != 1) {
                throw new UserError(file + ": .npy version " + major + ".x; expected 1.0");
            }
            int headerLength = Short.toUnsignedInt(Short.reverseBytes(in.readShort()));
            String header = new String(in.readNBytes(headerLength), StandardCharsets.US_ASCII);
            Matcher shape = SHAPE.matcher(header);
            if (!header.contains("'descr': '<f4'") || !header.contains("'fortran_order': False") || !shape.find()) {
                throw new UserError(file + ": .npy header " + printable(header.strip())
                        + "; expected a 2-D '<f4' C-order array");
            }
            long rows = parseDimension(file, shape.group(1));
            long cols = parseDimension(file, shape.group(2));
            long available = Files.size(file) - 10L - headerLength;
            // both below 2^31: the product cannot overflow a long
            if (rows * cols > available / 4 || rows * cols > Integer.MAX_VALUE - 8) {
                throw new UserError(file + ": .npy shape (" + rows + ", " + cols + ") needs " + 4 * rows * cols
                        + " bytes of data, the file holds " + Math.max(0, available) + "; the file is truncated or damaged");
            }
            float[] data = new float[(int) (rows * cols)];
            byte[] bytes = new byte[4 * 8192];
            ByteBuffer view = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < data.length; ) {
                int n = Math.min(8192, data.length - i);
                in.readFully(bytes, 0, 4 * n);
                view.clear();
                for (int k = 0; k < n; k++) {
                    data[i++] = view.getFloat();
                }
            }
            return new Matrix((int) rows, (int) cols, data);
        } catch (java.io.EOFException e) {
            throw new UserError(file + ": .npy file is truncated");
        }
    }

    /** A dimension of the shape: a count below 2^31 (a float array's limit). */
    private static long parseDimension(Path file, String digits) {
        long d = digits.length() > 10 ? Long.MAX_VALUE : Long.parseLong(digits);
        if (d > Integer.MAX_VALUE - 8) {
            throw new UserError(file + ": .npy dimension " + (digits.length() > 20 ? digits.substring(0, 20) + "..." : digits)
                    + " exceeds the largest array (2^31 - 9 values)");
        }
        return d;
    }

    /** Header text for a message: one line of printable ASCII, cut at 200 characters. */
    private static String printable(String s) {
        String cut = s.length() > 200 ? s.substring(0, 200) + "..." : s;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
