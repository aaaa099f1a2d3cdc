using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Strata.Contracts;

/// <summary>An enum value's name on the wire: its <c>JsonStringEnumMemberName</c>, else its name in snake_case
/// (<c>FastForest</c> is <c>fast_forest</c>). <see cref="StrataJson"/> reads and writes enums by these names only (see
/// <see cref="WireEnumConverter{T}"/>); command-line options, stored params and log lines use them too.</summary>
public static class WireNames
{
    public static string Of<T>(T value) where T : struct, Enum =>
        Names<T>.ByValue.TryGetValue(value, out var name) ? name : throw new ArgumentOutOfRangeException(nameof(value), value, $"not a {typeof(T).Name}");

    /// <summary>Every value's wire name, in declaration order.</summary>
    public static IReadOnlyList<string> All<T>() where T : struct, Enum => Names<T>.InOrder;

    /// <summary>The wire names of an enum type known only at run time (OpenAPI schemas).</summary>
    public static IReadOnlyList<string> All(Type enumType)
    {
        ArgumentNullException.ThrowIfNull(enumType);
        return (IReadOnlyList<string>)typeof(WireNames).GetMethod(nameof(All), 1, Type.EmptyTypes)!.MakeGenericMethod(enumType).Invoke(null, null)!;
    }

    /// <summary>The value whose wire name is <paramref name="name"/> (exactly), if any.</summary>
    public static bool TryParse<T>(string? name, out T value) where T : struct, Enum =>
        Names<T>.ByName.TryGetValue(name ?? string.Empty, out value);

    private static class Names<T> where T : struct, Enum
    {
        public static readonly Dictionary<T, string> ByValue = typeof(T).GetFields(BindingFlags.Public | BindingFlags.Static).ToDictionary(
            f => (T)f.GetValue(null)!,
            f => f.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? JsonNamingPolicy.SnakeCaseLower.ConvertName(f.Name));

        public static readonly Dictionary<string, T> ByName = ByValue.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);

        public static readonly string[] InOrder = [.. Enum.GetValues<T>().Select(v => ByValue[v])];
    }
}

/// <summary>Enums as their wire names (<see cref="WireNames"/>), and nothing else: no numbers, no other spelling, so no
/// value outside the enum gets in. An unknown name is a <see cref="JsonException"/> naming the accepted ones.</summary>
public sealed class WireEnumConverter<T> : JsonConverter<T> where T : struct, Enum
{
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String && WireNames.TryParse<T>(reader.GetString(), out var value))
        {
            return value;
        }
        throw new JsonException($"expected one of {string.Join(", ", WireNames.All<T>())}");
    }

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(WireNames.Of(value));
    }

    public override T ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        WireNames.TryParse<T>(reader.GetString(), out var value) ? value : throw new JsonException($"expected one of {string.Join(", ", WireNames.All<T>())}");

    public override void WriteAsPropertyName(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WritePropertyName(WireNames.Of(value));
    }
}

/// <summary>Makes a <see cref="WireEnumConverter{T}"/> for every enum.</summary>
public sealed class WireEnumConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(WireEnumConverter<>).MakeGenericType(typeToConvert))!;
}
