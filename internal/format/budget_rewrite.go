package format

import (
	"strconv"
	"text/template/parse"
)

// chargedBuiltins are text/template's builtins that pass values through
// without allocating; compileTemplate follows each call with chargeFunc so
// that their results count against the budget and the deadline is checked.
var chargedBuiltins = map[string]bool{"index": true, "slice": true, "len": true}

// rewrite puts the budget into the parse tree under n:
//
//   - a method call with arguments ({{.Timestamp.Format "2006"}}, or one
//     that receives a piped value) becomes a call of methodFunc, which
//     checks the budget and the method;
//   - a call of a chargedBuiltins builtin is followed by chargeFunc in its
//     pipeline ({{index .Labels "a"}} becomes {{index .Labels "a" | _heraldCharge}});
//   - the pipeline of a range ends with rangeFunc.
//
// Method calls without arguments are left alone: those of the template
// data's types return values of a bounded size (TestTemplateDataTypes).
func rewrite(n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			rewrite(c)
		}
	case *parse.ActionNode:
		rewritePipe(n.Pipe)
	case *parse.IfNode:
		rewritePipe(n.Pipe)
		rewrite(n.List)
		rewrite(n.ElseList)
	case *parse.WithNode:
		rewritePipe(n.Pipe)
		rewrite(n.List)
		rewrite(n.ElseList)
	case *parse.RangeNode:
		rewritePipe(n.Pipe)
		if n.Pipe != nil && len(n.Pipe.Cmds) > 0 {
			// {{range .Labels}} sorts the keys: rangeFunc charges them.
			id := parse.NewIdentifier(rangeFunc).SetPos(n.Pipe.Pos)
			n.Pipe.Cmds = append(n.Pipe.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: n.Pipe.Pos, Args: []parse.Node{id}})
		}
		rewrite(n.List)
		rewrite(n.ElseList)
	case *parse.TemplateNode:
		rewritePipe(n.Pipe)
	}
}

func rewritePipe(p *parse.PipeNode) {
	if p == nil {
		return
	}
	cmds := make([]*parse.CommandNode, 0, len(p.Cmds))
	for i, c := range p.Cmds {
		for _, a := range c.Args {
			rewriteArg(a)
		}
		rewriteMethod(c, i > 0)
		cmds = append(cmds, c)
		if id, ok := c.Args[0].(*parse.IdentifierNode); ok && chargedBuiltins[id.Ident] {
			charge := parse.NewIdentifier(chargeFunc).SetPos(id.Pos)
			cmds = append(cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: c.Pos, Args: []parse.Node{charge}})
		}
	}
	p.Cmds = cmds
}

// rewriteArg rewrites the pipelines inside an argument.
func rewriteArg(a parse.Node) {
	switch a := a.(type) {
	case *parse.PipeNode:
		rewritePipe(a)
	case *parse.ChainNode:
		rewriteArg(a.Node)
	}
}

// rewriteMethod turns c into a call of methodFunc when it calls a method
// with arguments: c has arguments after its first word, or piped is true
// (it receives the value of the command before it).
func rewriteMethod(c *parse.CommandNode, piped bool) {
	if len(c.Args) < 2 && !piped {
		return
	}
	var recv parse.Node
	var name string
	switch f := c.Args[0].(type) {
	case *parse.FieldNode: // .A.B.Method, or .Method of dot
		name = f.Ident[len(f.Ident)-1]
		if len(f.Ident) == 1 {
			recv = &parse.DotNode{NodeType: parse.NodeDot, Pos: f.Pos}
		} else {
			recv = &parse.FieldNode{NodeType: parse.NodeField, Pos: f.Pos, Ident: f.Ident[:len(f.Ident)-1]}
		}
	case *parse.VariableNode: // $x.A.Method
		if len(f.Ident) < 2 {
			return
		}
		name = f.Ident[len(f.Ident)-1]
		recv = &parse.VariableNode{NodeType: parse.NodeVariable, Pos: f.Pos, Ident: f.Ident[:len(f.Ident)-1]}
	case *parse.ChainNode: // (pipeline).A.Method
		name = f.Field[len(f.Field)-1]
		if len(f.Field) == 1 {
			recv = f.Node
		} else {
			recv = &parse.ChainNode{NodeType: parse.NodeChain, Pos: f.Pos, Node: f.Node, Field: f.Field[:len(f.Field)-1]}
		}
	default:
		return
	}
	call := parse.NewIdentifier(methodFunc).SetPos(c.Args[0].Position())
	str := &parse.StringNode{NodeType: parse.NodeString, Pos: c.Args[0].Position(), Quoted: strconv.Quote(name), Text: name}
	c.Args = append([]parse.Node{call, recv, str}, c.Args[1:]...)
}
