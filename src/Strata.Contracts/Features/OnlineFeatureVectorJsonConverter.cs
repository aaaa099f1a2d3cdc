using System.Text.Json;
using System.Text.Json.Serialization;

namespace Strata.Contracts.Features;

/// <summary>Writes a feature vector straight to the wire: the known statuses as pre-encoded text, values by a type
/// switch. A 100-entity x 50-feature response is 5,000 of each, so this is where online serving spends its time.</summary>
public sealed class OnlineFeatureVectorJsonConverter : JsonConverter<OnlineFeatureVector>
{
    private static readonly JsonEncodedText ValuesName = JsonEncodedText.Encode("values");
    private static readonly JsonEncodedText StatusesName = JsonEncodedText.Encode("statuses");
    private static readonly JsonEncodedText TimestampsName = JsonEncodedText.Encode("event_timestamps");
    private static readonly JsonEncodedText Present = JsonEncodedText.Encode(FeatureStatus.Present);
    private static readonly JsonEncodedText NullValue = JsonEncodedText.Encode(FeatureStatus.NullValue);
    private static readonly JsonEncodedText NotFound = JsonEncodedText.Encode(FeatureStatus.NotFound);
    private static readonly JsonEncodedText OutsideMaxAge = JsonEncodedText.Encode(FeatureStatus.OutsideMaxAge);
    private static readonly ScalarListJsonConverter Scalars = new();

    public override OnlineFeatureVector Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("expected a feature vector object");
        }
        IReadOnlyList<object?> values = [];
        List<string> statuses = [], timestamps = [];
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "values":
                    values = Scalars.Read(ref reader, typeof(IReadOnlyList<object?>), options);
                    break;
                case "statuses":
                    statuses = ReadStrings(ref reader);
                    break;
                case "event_timestamps":
                    timestamps = ReadStrings(ref reader);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        return new OnlineFeatureVector(values, statuses, timestamps);
    }

    private static List<string> ReadStrings(ref Utf8JsonReader reader)
    {
        var list = new List<string>();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("expected an array of strings");
        }
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            list.Add(reader.GetString() ?? string.Empty);
        }
        return list;
    }

    public override void Write(Utf8JsonWriter writer, OnlineFeatureVector value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStartObject();
        writer.WritePropertyName(ValuesName);
        Scalars.Write(writer, value.Values, options);
        writer.WritePropertyName(StatusesName);
        writer.WriteStartArray();
        foreach (var status in value.Statuses)
        {
            switch (status)
            {
                case FeatureStatus.Present: writer.WriteStringValue(Present); break;
                case FeatureStatus.NullValue: writer.WriteStringValue(NullValue); break;
                case FeatureStatus.NotFound: writer.WriteStringValue(NotFound); break;
                case FeatureStatus.OutsideMaxAge: writer.WriteStringValue(OutsideMaxAge); break;
                default: writer.WriteStringValue(status); break;
            }
        }
        writer.WriteEndArray();
        writer.WritePropertyName(TimestampsName);
        writer.WriteStartArray();
        foreach (var timestamp in value.EventTimestamps)
        {
            writer.WriteStringValue(timestamp);
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
