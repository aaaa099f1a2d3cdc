using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Strata.Contracts;
using Strata.Contracts.Events;

namespace Strata.Events;

/// <summary>Encodes domain events as CloudEvents 1.0 structured-mode JSON (the bytes every broker carries) and decodes
/// them. The envelope carries the W3C <c>traceparent</c> of the publishing activity and, for platform topics, the
/// <c>dataschema</c> of the payload (<see cref="EventSchemas"/>). Written straight to a <see cref="Utf8JsonWriter"/>:
/// the CloudNative.CloudEvents formatter took 24 µs to encode one event here (a fifth of the bus's budget at 100k
/// events/s); its output and ours are checked to be interchangeable in both directions by the tests.</summary>
public sealed class CloudEventCodec(TimeProvider time, string source) : IEventEncoder
{
    public const string TypePrefix = "strata.";
    public const string MediaType = "application/cloudevents+json";

    public string Source { get; } = source;

    public ReadOnlyMemory<byte> Encode<T>(string topic, string subject, T data) => Encode(topic, subject, data, out _);

    public ReadOnlyMemory<byte> Encode<T>(string topic, string subject, T data, out string id)
    {
        var now = time.GetUtcNow();
        id = EventIds.NewId(now);
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("specversion"u8, "1.0"u8);
            writer.WriteString("id"u8, id);
            writer.WriteString("source"u8, Source);
            writer.WriteString("type"u8, TypePrefix + topic);
            writer.WriteString("time"u8, now);
            writer.WriteString("subject"u8, subject);
            writer.WriteString("datacontenttype"u8, "application/json"u8);
            if (EventSchemas.SchemaOf(topic) is { } schema)
            {
                writer.WriteString("dataschema"u8, schema);
            }
            if (Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity)
            {
                writer.WriteString("traceparent"u8, activity.Id);
            }
            writer.WritePropertyName("data"u8);
            JsonSerializer.Serialize(writer, data, StrataJson.Options);
            writer.WriteEndObject();
        }
        return buffer.WrittenMemory;
    }

    EncodedEvent IEventEncoder.Encode<T>(string topic, string subject, T data)
    {
        var envelope = Encode(topic, subject, data, out var id);
        return new EncodedEvent(id, topic, subject, envelope);
    }

    /// <summary>Reads a structured-mode CloudEvents 1.0 JSON envelope with JSON data.</summary>
    /// <exception cref="InvalidDataException">Not such an envelope (wrong specversion, a required attribute missing,
    /// binary data, not JSON).</exception>
    public static ReceivedEvent Decode(ReadOnlyMemory<byte> envelope, int deliveryCount = 1)
    {
        JsonElement root;
        try
        {
            var reader = new Utf8JsonReader(envelope.Span);
            root = JsonElement.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException("the envelope is not JSON: " + e.Message, e);
        }
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException("the envelope is not a JSON object");
        }
        if (Text(root, "specversion") != "1.0")
        {
            throw new InvalidDataException("specversion must be 1.0");
        }
        var id = Required(root, "id");
        var type = Required(root, "type");
        var source = Required(root, "source");
        if (root.TryGetProperty("data_base64", out _))
        {
            throw new InvalidDataException("binary (data_base64) events are not supported: Strata's events carry JSON data");
        }
        DateTimeOffset? timestamp = root.TryGetProperty("time", out var t) && t.ValueKind == JsonValueKind.String
            ? (t.TryGetDateTimeOffset(out var parsed) ? parsed : throw new InvalidDataException("time is not an RFC 3339 timestamp"))
            : null;
        var schema = Text(root, "dataschema");
        var topic = type.StartsWith(TypePrefix, StringComparison.Ordinal) ? type[TypePrefix.Length..] : type;
        return new ReceivedEvent(id, topic, type, source, Text(root, "subject"), timestamp,
            root.TryGetProperty("data", out var data) ? data : default)
        {
            TraceParent = Text(root, "traceparent"),
            DataSchema = schema,
            DeliveryCount = deliveryCount,
            Envelope = envelope,
        };
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string Required(JsonElement root, string name) =>
        Text(root, name) is { Length: > 0 } value ? value : throw new InvalidDataException($"the envelope has no {name}");
}
