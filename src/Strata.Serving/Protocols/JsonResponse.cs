using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Strata.Serving.Protocols;

/// <summary>Writes a JSON response body from a per-thread buffer: the body is built whole, sent with its
/// <c>Content-Length</c> (not chunked) and copied once into Kestrel's output pipe; no array or writer is allocated per
/// response. The scoring endpoints answer this way (a response array per request was a fifth of their allocated bytes).</summary>
public static class JsonResponse
{
    private const int KeptCapacity = 128 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>Writes <paramref name="write"/>'s JSON as the body now and returns an empty result for the endpoint.</summary>
    public static IResult Write<TState>(HttpResponse response, TState state, Action<Utf8JsonWriter, TState> write)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(write);
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer);
        writer.Reset(buffer);
        try
        {
            write(writer, state);
            writer.Flush();
            response.ContentType = "application/json";
            response.ContentLength = buffer.WrittenCount;
            response.BodyWriter.Write(buffer.WrittenSpan);
        }
        finally
        {
            writer.Reset();
            if (buffer.Capacity > KeptCapacity)
            {
                // A large batch's buffer is not kept by the thread.
                t_buffer = null;
                t_writer = null;
            }
        }
        return Results.Empty;
    }
}
