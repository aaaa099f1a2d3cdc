using Strata.Contracts.Errors;
using Strata.Contracts.Registry;
using Strata.Serving.Models;

namespace Strata.Serving.Tests;

/// <summary>A tiny graph can make a huge tensor from a tiny input: a 73-byte ConstantOfShape graph answered a 100 MB body
/// (issue 24). One inference's outputs are capped (<c>Strata:Serving:MaxOutputElements</c>); beyond it, a 400 naming
/// the output.</summary>
public sealed class OnnxOutputCapTests
{
    [Fact]
    public void ConstantOfShape_BeyondTheCap_IsRefusedNamingTheOutput_WithinItAnswered()
    {
        var graph = ConstantOfShapeGraph();
        Assert.True(graph.Length < 100, $"the graph is {graph.Length} bytes");
        var version = new ModelVersion("bomb", 1, DateTimeOffset.UtcNow, "sha", graph.Length, ModelFormats.Onnx, new Dictionary<string, double>(),
            new Dictionary<string, string>(), null, null, null, [], [], null);
        var model = OnnxModel.Load(version, graph, DateTimeOffset.UtcNow, maxOutputElements: 1000);

        var small = model.Infer([new Tensor("shape", TensorDatatype.I64, [1], new long[] { 1000 })], []);
        Assert.Equal(1000, Assert.Single(small).Data.Length);

        var error = Assert.Throws<InputValidationException>(() => model.Infer([new Tensor("shape", TensorDatatype.I64, [1], new long[] { 1001 })], []));
        Assert.Equal("outputs.y", error.Field);
        Assert.Contains("MaxOutputElements", error.Message, StringComparison.Ordinal);
    }

    /// <summary>ONNX's <c>y = ConstantOfShape(shape)</c> (float zeros of the shape given as input), encoded by hand: a
    /// ModelProto (IR 8, opset 13) with one node, input <c>shape</c> int64[1], output <c>y</c> float.</summary>
    private static byte[] ConstantOfShapeGraph()
    {
        var node = Message(Text(1, "shape"), Text(2, "y"), Text(4, "ConstantOfShape"));
        var input = Message(Text(1, "shape"), Field(2, Message(Field(1, Message(Varint(1, 7), Field(2, Message(Field(1, Message(Varint(1, 1))))))))));
        var output = Message(Text(1, "y"), Field(2, Message(Field(1, Message(Varint(1, 1))))));
        var graph = Message(Field(1, node), Text(2, "g"), Field(11, input), Field(12, output));
        return Message(Varint(1, 8), Field(7, graph), Field(8, Message(Text(1, string.Empty), Varint(2, 13))));
    }

    private static byte[] Message(params byte[][] fields) => [.. fields.SelectMany(f => f)];

    private static byte[] Field(int number, byte[] value) => [.. Encode((ulong)((number << 3) | 2)), .. Encode((ulong)value.Length), .. value];

    private static byte[] Text(int number, string value) => Field(number, System.Text.Encoding.UTF8.GetBytes(value));

    private static byte[] Varint(int number, long value) => [.. Encode((ulong)(number << 3)), .. Encode((ulong)value)];

    private static byte[] Encode(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value == 0 ? b : (byte)(b | 0x80));
        }
        while (value != 0);
        return [.. bytes];
    }
}
