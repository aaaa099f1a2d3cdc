using System.Diagnostics;
using System.Net.Mime;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;
using Strata.Contracts;
using Strata.Contracts.Events;

namespace Strata.Events;

/// <summary>Encodes domain events as CloudEvents 1.0 structured JSON (the bytes every broker carries) and decodes them.
/// The envelope carries the W3C <c>traceparent</c> of the publishing activity and, for platform topics, the
/// <c>dataschema</c> of the payload (<see cref="EventSchemas"/>).</summary>
public sealed class CloudEventCodec(TimeProvider time, string source) : IEventEncoder
{
    public const string TypePrefix = "strata.";
    public static readonly CloudEventAttribute TraceParentAttribute = CloudEventAttribute.CreateExtension("traceparent", CloudEventAttributeType.String);
    private static readonly CloudEventAttribute[] Extensions = [TraceParentAttribute];
    private static readonly JsonEventFormatter Formatter = new(StrataJson.Options, new JsonDocumentOptions());
    private static readonly ContentType EnvelopeType = new("application/cloudevents+json");

    public Uri Source { get; } = new(source, UriKind.RelativeOrAbsolute);

    public ReadOnlyMemory<byte> Encode<T>(string topic, string subject, T data) => Encode(topic, subject, data, out _);

    public ReadOnlyMemory<byte> Encode<T>(string topic, string subject, T data, out string id)
    {
        id = Guid.CreateVersion7().ToString();
        var cloudEvent = new CloudEvent(Extensions)
        {
            Id = id,
            Source = Source,
            Type = TypePrefix + topic,
            Time = time.GetUtcNow(),
            Subject = subject,
            DataContentType = MediaTypeNames.Application.Json,
            DataSchema = EventSchemas.UriOf(topic),
            Data = JsonSerializer.SerializeToElement(data, StrataJson.Options),
        };
        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity)
        {
            cloudEvent[TraceParentAttribute] = activity.Id;
        }
        return Formatter.EncodeStructuredModeMessage(cloudEvent, out _);
    }

    EncodedEvent IEventEncoder.Encode<T>(string topic, string subject, T data)
    {
        var envelope = Encode(topic, subject, data, out var id);
        return new EncodedEvent(id, topic, subject, envelope);
    }

    public static ReceivedEvent Decode(ReadOnlyMemory<byte> envelope, int deliveryCount = 1)
    {
        var cloudEvent = Formatter.DecodeStructuredModeMessage(envelope, EnvelopeType, Extensions);
        var type = cloudEvent.Type ?? throw new InvalidDataException("event without a type");
        var topic = type.StartsWith(TypePrefix, StringComparison.Ordinal) ? type[TypePrefix.Length..] : type;
        var data = cloudEvent.Data is JsonElement element ? element.Clone() : JsonSerializer.SerializeToElement(cloudEvent.Data, StrataJson.Options);
        return new ReceivedEvent(cloudEvent.Id!, topic, type, cloudEvent.Source!, cloudEvent.Subject, cloudEvent.Time, data)
        {
            TraceParent = cloudEvent[TraceParentAttribute] as string,
            DataSchema = cloudEvent.DataSchema,
            DeliveryCount = deliveryCount,
            Envelope = envelope,
        };
    }
}
