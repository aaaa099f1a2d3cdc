using System.Text.Json;
using System.Text.Json.Serialization;

namespace Strata.Contracts;

/// <summary>The one JSON shape used on every Strata wire: snake_case names, nulls omitted.</summary>
public static class StrataJson
{
    public static JsonSerializerOptions Options { get; } = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    /// <summary>Applies Strata's wire conventions to an options instance (used for ASP.NET's own options too).</summary>
    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
        // Enums by their snake_case names only (WireNames): a number or another spelling is refused.
        options.Converters.Add(new WireEnumConverterFactory());
        options.Converters.Add(new ScalarListJsonConverter());
        return options;
    }
}
