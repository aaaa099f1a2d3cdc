using System.Buffers;
using System.Text.Json;

namespace Strata.Serving.Traffic;

/// <summary>Finds a sticky key's value in a scoring body without binding it to a model: the top-level property of a
/// <c>/predict</c> object (or of the first row of a batch), the property of the first KServe V1 instance, or the first
/// element of the Open Inference input so named. Numbers are taken as written (<c>7</c> and <c>"7"</c> are one user).</summary>
public static class StickyKeys
{
    public static string? Find(ReadOnlySequence<byte> body, string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Array)
            {
                return root.GetArrayLength() > 0 ? Property(root[0], key) : null;
            }
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            if (Property(root, key) is { } direct)
            {
                return direct;
            }
            if (root.TryGetProperty("instances", out var instances) && instances.ValueKind == JsonValueKind.Array && instances.GetArrayLength() > 0)
            {
                return Property(instances[0], key);
            }
            if (root.TryGetProperty("inputs", out var inputs) && inputs.ValueKind == JsonValueKind.Array)
            {
                foreach (var input in inputs.EnumerateArray())
                {
                    if (input.ValueKind == JsonValueKind.Object && input.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String
                        && name.ValueEquals(key) && input.TryGetProperty("data", out var data))
                    {
                        while (data.ValueKind == JsonValueKind.Array && data.GetArrayLength() > 0)
                        {
                            data = data[0];
                        }
                        return Scalar(data);
                    }
                }
            }
            return null;
        }
        catch (JsonException)
        {
            return null; // the body's own reader says what is wrong with it
        }
    }

    private static string? Property(JsonElement element, string key) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(key, out var value) ? Scalar(value) : null;

    private static string? Scalar(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        _ => null,
    };
}
