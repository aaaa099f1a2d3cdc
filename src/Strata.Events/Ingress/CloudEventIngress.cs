using System.Net.Mime;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.Http;
using CloudNative.CloudEvents.SystemTextJson;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Strata.Contracts.Errors;
using Strata.Contracts.Events;
using Strata.Events.Transport;

namespace Strata.Events.Ingress;

/// <summary>Publishing from outside: <c>POST /api/events/{topic}</c> takes CloudEvents in each mode the CloudEvents HTTP
/// binding defines (binary: <c>ce-*</c> headers and the data as the body; structured:
/// <c>application/cloudevents+json</c>; batch: <c>application/cloudevents-batch+json</c>), checks each event (the
/// required attributes, JSON data, the topic's schema where it has one), and publishes them all on the bus, whichever
/// broker that is, or none of them. Every attribute an event carries, extensions included, is kept: the envelope on the
/// broker is the event as it was sent, so subscribers and the audit log see it whole. Parsing and encoding are the
/// CloudNative.CloudEvents SDK's.</summary>
public sealed class CloudEventIngress(EventBus bus, IOptions<EventsOptions> options)
{
    public const string StructuredMediaType = "application/cloudevents+json";
    public const string BatchMediaType = "application/cloudevents-batch+json";

    /// <summary>Duplicate attribute names are refused: the event checked is the event stored.</summary>
    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false };

    private static readonly JsonEventFormatter Formatter = new(JsonSerializerOptions.Default, Strict);

    /// <summary>Declared so the SDK types it as a string whatever the JSON says (KNOWN.md: the SDK has no tracing extension).</summary>
    private static readonly CloudEventAttribute[] Extensions = [CloudEventAttribute.CreateExtension("traceparent", CloudEventAttributeType.String)];

    private static readonly string[] RequiredAttributes = ["id", "source", "type"];

    /// <summary>Whether <paramref name="topic"/> takes events from outside (<see cref="IngressOptions.Topics"/>).</summary>
    public bool IsOpen(string topic) => options.Value.Ingress.OpenTopics.Contains(topic);

    public async Task<IngressResult> PublishAsync(string topic, HttpRequest request, CancellationToken cancellationToken)
    {
        if (!IsOpen(topic))
        {
            throw EventTopics.All.Contains(topic)
                ? new AccessDeniedException(true, $"topic {topic} carries what Strata's modules publish; events from outside may go to {string.Join(", ", options.Value.Ingress.OpenTopics)}")
                : new ResourceNotFoundException("ingress topic", topic + " (add it to Strata:Events:Ingress:Topics to take events from outside)");
        }
        var body = await ReadBodyAsync(request, cancellationToken);
        var events = Decode(request, body);
        var messages = new OutgoingMessage[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            messages[i] = Check(topic, events[i].Event, events[i].Json, events.Count == 1 ? null : $"[{i}]");
        }
        await bus.PublishEnvelopesAsync(topic, messages, cancellationToken);
        return new IngressResult(topic, messages.Length);
    }

    private static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream(request.ContentLength is > 0 and < 64 << 20 ? (int)request.ContentLength : 4096);
        await request.Body.CopyToAsync(buffer, cancellationToken);
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    /// <summary>The request's events: each as the SDK reads it (which checks it) and, in structured and batch mode, as the
    /// JSON object that was sent, which becomes its envelope as it is: the SDK would turn an extension's number or
    /// boolean into a string (it types only the extensions declared to it).</summary>
    private static List<(CloudEvent Event, ReadOnlyMemory<byte>? Json)> Decode(HttpRequest request, ReadOnlyMemory<byte> body)
    {
        var contentType = request.ContentType;
        var mediaType = contentType is null ? null : contentType.Split(';', 2)[0].Trim();
        try
        {
            if (string.Equals(mediaType, StructuredMediaType, StringComparison.OrdinalIgnoreCase))
            {
                return [(Formatter.DecodeStructuredModeMessage(body, new ContentType(contentType!), Extensions), body)];
            }
            if (string.Equals(mediaType, BatchMediaType, StringComparison.OrdinalIgnoreCase))
            {
                var batch = Formatter.DecodeBatchModeMessage(body, new ContentType(contentType!), Extensions);
                if (batch.Count is 0 or > EventsApi.MaxMessagesPerPublish)
                {
                    throw new InputValidationException("body", $"a batch holds 1 to {EventsApi.MaxMessagesPerPublish} events");
                }
                using var array = JsonDocument.Parse(body, Strict);
                return [.. array.RootElement.EnumerateArray().Select((element, i) => (batch[i], (ReadOnlyMemory<byte>?)JsonSerializer.SerializeToUtf8Bytes(element)))];
            }
        }
        catch (Exception e) when (e is ArgumentException or JsonException or FormatException)
        {
            throw new InputValidationException("body", "is not a CloudEvents " + (mediaType!.Contains("batch", StringComparison.Ordinal) ? "batch" : "event") + ": " + e.Message);
        }
        if (!request.Headers.ContainsKey("ce-specversion"))
        {
            if (mediaType is not null && !IsJson(mediaType))
            {
                throw new BadHttpRequestException($"send CloudEvents as {StructuredMediaType}, {BatchMediaType}, or in binary mode (ce-* headers) with JSON data, not '{mediaType}'",
                    StatusCodes.Status415UnsupportedMediaType);
            }
            throw new InputValidationException("ce-specversion", $"is required in binary mode (ce-* headers); or send the event as {StructuredMediaType}");
        }
        return [(DecodeBinary(request, body, mediaType), null)];
    }

    private static CloudEvent DecodeBinary(HttpRequest request, ReadOnlyMemory<byte> body, string? mediaType)
    {
        var version = HttpUtilities.DecodeHeaderValue(request.Headers["ce-specversion"].ToString());
        var spec = CloudEventsSpecVersion.FromVersionId(version) ?? throw new InputValidationException("ce-specversion", $"'{version}' is not a CloudEvents version this server reads (1.0)");
        var cloudEvent = new CloudEvent(spec, Extensions);
        foreach (var (name, values) in request.Headers)
        {
            if (HttpUtilities.GetAttributeNameFromHeaderName(name) is not { } attribute || attribute == CloudEventsSpecVersion.SpecVersionAttribute.Name)
            {
                continue;
            }
            if (values.Count != 1)
            {
                throw new InputValidationException(name, "is given more than once");
            }
            try
            {
                cloudEvent.SetAttributeFromString(attribute, HttpUtilities.DecodeHeaderValue(values.ToString()));
            }
            catch (ArgumentException e)
            {
                throw new InputValidationException(name, e.Message);
            }
        }
        if (body.Length > 0)
        {
            if (mediaType is null || !IsJson(mediaType))
            {
                throw new BadHttpRequestException($"binary-mode data must be JSON (application/json or a +json type), not '{mediaType ?? "(no Content-Type)"}': Strata's events carry JSON data",
                    StatusCodes.Status415UnsupportedMediaType);
            }
            cloudEvent.DataContentType = request.ContentType;
            try
            {
                Formatter.DecodeBinaryModeEventData(body, cloudEvent);
            }
            catch (Exception e) when (e is ArgumentException or JsonException)
            {
                throw new InputValidationException("body", "is not JSON: " + e.Message);
            }
        }
        return cloudEvent;
    }

    private static bool IsJson(string mediaType) =>
        mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);

    /// <summary>Checks one event and encodes it as it will travel. <paramref name="at"/> names it in a batch.</summary>
    private static OutgoingMessage Check(string topic, CloudEvent cloudEvent, ReadOnlyMemory<byte>? json, string? at)
    {
        string Field(string attribute) => at is null ? attribute : $"{at}.{attribute}";
        if (cloudEvent.SpecVersion != CloudEventsSpecVersion.V1_0)
        {
            throw new InputValidationException(Field("specversion"), $"must be 1.0, not {cloudEvent.SpecVersion.VersionId}");
        }
        if (!cloudEvent.IsValid)
        {
            var missing = RequiredAttributes.FirstOrDefault(a => cloudEvent[a] is null) ?? "id";
            throw new InputValidationException(Field(missing), "is required (a CloudEvents context attribute)");
        }
        foreach (var (attribute, _) in cloudEvent.GetPopulatedAttributes())
        {
            if (EventRecord.StrataAttributes.Contains(attribute.Name))
            {
                throw new InputValidationException(Field(attribute.Name), "is an attribute Strata sets on every event it records (its topic and position): name the extension otherwise");
            }
        }
        var source = cloudEvent.Source!.ToString();
        if (source.StartsWith(ReceivedEvent.StrataSourcePrefix, StringComparison.Ordinal))
        {
            throw new InputValidationException(Field("source"), $"{ReceivedEvent.StrataSourcePrefix}… is the source of Strata's own processes");
        }
        if (cloudEvent.Data is not null and not JsonElement)
        {
            throw new InputValidationException(Field(cloudEvent.Data is byte[] ? "data_base64" : "data"), "must be JSON (datacontenttype application/json): Strata's events carry JSON data");
        }
        if (cloudEvent.DataContentType is { } declared && !IsJson(declared.Split(';', 2)[0].Trim()))
        {
            throw new InputValidationException(Field("datacontenttype"), $"must be application/json or a +json type, not '{declared}'");
        }
        if (EventSchemas.SchemaOf(topic) is { } schemaUri)
        {
            if (cloudEvent.DataSchema is { } named && named.ToString() != schemaUri)
            {
                throw new InputValidationException(Field("dataschema"), $"must be {schemaUri} (the schema of {topic}'s data) or left out");
            }
            if (cloudEvent.Data is not JsonElement data)
            {
                throw new InputValidationException(Field("data"), $"is required: {topic}'s events carry data following {schemaUri}");
            }
            if (TopicSchemas.Check(TopicSchemas.Get(schemaUri)!, data) is { } problem)
            {
                throw new InputValidationException(Field("data"), $"does not follow {schemaUri}: {problem}");
            }
        }
        var envelope = json ?? Formatter.EncodeStructuredModeMessage(cloudEvent, out _);
        return new OutgoingMessage(MessageId(source, cloudEvent.Id!), cloudEvent.Subject ?? cloudEvent.Id!, envelope);
    }

    /// <summary>The broker's deduplication id: the event's identity (source and id), hashed when it is long, so a retried
    /// POST stores each event once (within the broker's dedup window) and two sources' equal ids stay two events.</summary>
    private static string MessageId(string source, string id)
    {
        var identity = string.Concat(source, " ", id);
        return identity.Length <= 200 ? identity : "ce-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)));
    }
}

/// <summary>What <c>POST /api/events/{topic}</c> stored: every event of the request, on <see cref="Topic"/>.</summary>
public sealed record IngressResult(string Topic, int Accepted);
