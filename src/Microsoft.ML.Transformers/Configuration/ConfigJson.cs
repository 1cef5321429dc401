using System.Text.Json;
using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers.Configuration;

/// <summary>Reads config-style JSON into a mutable <see cref="JsonObject"/> with Python's json.load semantics for
/// duplicate keys (the last one wins) and errors that name the source and position.</summary>
internal static class ConfigJson
{
    public static JsonObject ParseObject(string json, string? source)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new ConfigException(source, null,
                $"not valid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1} of that line: {e.Message}", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ConfigException(source, null, $"expected a JSON object at the top level, found {Describe(doc.RootElement.ValueKind)}.");
            }
            return (JsonObject)ToNode(doc.RootElement)!;
        }
    }

    private static JsonNode? ToNode(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                var obj = new JsonObject();
                foreach (var p in e.EnumerateObject())
                {
                    obj[p.Name] = ToNode(p.Value);
                }
                return obj;
            case JsonValueKind.Array:
                var arr = new JsonArray();
                foreach (var item in e.EnumerateArray())
                {
                    arr.Add(ToNode(item));
                }
                return arr;
            case JsonValueKind.Null:
                return null;
            default:
                // Keeps the number's exact text, so integers and floats are written back as they were read.
                return JsonValue.Create(e.Clone());
        }
    }

    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };

    public static string Describe(JsonNode? node)
    {
        if (node is null)
        {
            return "null";
        }
        var text = node.ToJsonString();
        if (text.Length > 60)
        {
            text = text[..57] + "...";
        }
        return $"{Describe(node.GetValueKind())} {text}";
    }
}
