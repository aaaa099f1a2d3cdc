using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Strata.Contracts.Errors;

namespace Strata.ServiceDefaults;

/// <summary>Reads a small request body whole, without copying, for parsers that want every byte at once.</summary>
public static class RequestBody
{
    /// <summary>Default bound for single-request JSON bodies (a prediction, a feature row).</summary>
    public const long DefaultMaxBytes = 1 << 20;

    /// <summary>Reads the whole body and hands it to <paramref name="parse"/> (the sequence is only valid during the call).
    /// Larger than <paramref name="maxBytes"/> is a 413.</summary>
    public static async Task<T> ReadAllAsync<T>(HttpRequest request, Func<ReadOnlySequence<byte>, T> parse, CancellationToken ct, long maxBytes = DefaultMaxBytes)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(parse);
        if (request.ContentLength > maxBytes)
        {
            throw TooLarge(maxBytes);
        }
        var reader = request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(ct);
            var buffer = result.Buffer;
            if (!result.IsCompleted && buffer.Length <= maxBytes)
            {
                // Consumed nothing, examined everything: the next read waits for more bytes.
                reader.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }
            try
            {
                if (buffer.Length > maxBytes)
                {
                    throw TooLarge(maxBytes);
                }
                return buffer.IsEmpty
                    ? throw new InputValidationException("body", "is empty; a JSON object is required")
                    : parse(buffer);
            }
            finally
            {
                reader.AdvanceTo(buffer.End);
            }
        }
    }

    private static BadHttpRequestException TooLarge(long maxBytes) =>
        new($"the body is larger than {maxBytes} bytes", StatusCodes.Status413PayloadTooLarge);
}

/// <summary>Endpoint metadata bounding the request body (routing applies it before the body is read).</summary>
public sealed class BodySizeLimit(long maxBytes) : IRequestSizeLimitMetadata
{
    public long? MaxRequestBodySize { get; } = maxBytes;
}
