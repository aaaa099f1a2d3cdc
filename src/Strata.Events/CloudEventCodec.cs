using System.Net.Mime;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;
using Strata.Contracts;
using Strata.Contracts.Events;

namespace Strata.Events;

/// <summary>Encodes domain events as CloudEvents 1.0 structured JSON (the bytes a broker would carry) and decodes them.</summary>
public sealed class CloudEventCodec(TimeProvider time, string source)
{
    public const string TypePrefix = "strata.";
    private static readonly JsonEventFormatter Formatter = new(StrataJson.Options, new JsonDocumentOptions());

    public Uri Source { get; } = new(source, UriKind.RelativeOrAbsolute);

    public ReadOnlyMemory<byte> Encode<T>(string topic, string subject, T data)
    {
        var cloudEvent = new CloudEvent
        {
            Id = Guid.CreateVersion7().ToString(),
            Source = Source,
            Type = TypePrefix + topic,
            Time = time.GetUtcNow(),
            Subject = subject,
            DataContentType = MediaTypeNames.Application.Json,
            Data = JsonSerializer.SerializeToElement(data, StrataJson.Options),
        };
        return Formatter.EncodeStructuredModeMessage(cloudEvent, out _);
    }

    public static ReceivedEvent Decode(ReadOnlyMemory<byte> envelope)
    {
        var cloudEvent = Formatter.DecodeStructuredModeMessage(envelope, new ContentType("application/cloudevents+json"), extensionAttributes: null);
        var type = cloudEvent.Type ?? throw new InvalidDataException("event without a type");
        var topic = type.StartsWith(TypePrefix, StringComparison.Ordinal) ? type[TypePrefix.Length..] : type;
        var data = cloudEvent.Data is JsonElement element ? element.Clone() : JsonSerializer.SerializeToElement(cloudEvent.Data, StrataJson.Options);
        return new ReceivedEvent(cloudEvent.Id!, topic, type, cloudEvent.Source!, cloudEvent.Subject, cloudEvent.Time, data);
    }
}
