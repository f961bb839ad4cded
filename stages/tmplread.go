package stages

import (
	"strconv"
	"strings"
	"text/template/parse"
)

// This file analyses a template's parse tree for the render cache: which
// parts of the object the template reads (a readNode trie), and which calls
// of the Env are "sites" whose results the output depends on only through
// their shape (a string's emptiness, a list's length, NodePort's number) and
// through string values printed whole by Quote: the holes. A template whose
// output is fixed by those reads and shapes plus the hole values can be
// rendered once per distinct read set and then have the hole values spliced
// in. Anything the analysis does not model makes the template uncacheable;
// it must over-approximate reads, never miss one.
//
// The analysis runs on a copy of the parse tree and renames each site's
// function to siteFuncName(i), so that a sentinel render can tell which site
// made each Env call.

// readNode is what the template reads of one value of the object.
type readNode struct {
	whole  bool                 // the entire value (printed, passed to a function)
	shape  bool                 // a list's length, else the entire value (index, len)
	truth  bool                 // emptiness (if, with)
	fields map[string]*readNode // object fields read by name
	elems  *readNode            // ranged over: what is read of each element
}

func (n *readNode) field(name string) *readNode {
	if n.fields == nil {
		n.fields = map[string]*readNode{}
	}
	c := n.fields[name]
	if c == nil {
		c = &readNode{}
		n.fields[name] = c
	}
	return c
}

func (n *readNode) elem() *readNode {
	if n.elems == nil {
		n.elems = &readNode{}
	}
	return n.elems
}

// siteFunc describes an Env function a site may call: its parameter kinds
// ('s' string, 'b' bool) and its result: 'h' a string (a hole when not
// empty), 'l' a list of strings (each non-empty one a hole), 'v' an int the
// cache key holds whole.
type siteFunc struct {
	params string
	result byte
}

var siteFuncs = map[string]siteFunc{
	"Now": {"", 'h'}, "StartTime": {"", 'h'}, "NodeIP": {"", 'h'}, "NodeName": {"", 'h'},
	"PodIP": {"", 'h'}, "NodeIPWith": {"s", 'h'}, "PodIPWith": {"sbsss", 'h'},
	"NodeIPsWith": {"s", 'l'}, "PodIPsWith": {"sbsss", 'l'},
	"NodePort": {"", 'v'},
}

// siteFuncPrefix names the renamed site functions; no template function
// starts with it.
const siteFuncPrefix = "kwoksimSite"

func siteFuncName(i int) string { return siteFuncPrefix + strconv.Itoa(i) }

// envFuncNames are all the functions that read the Env.
var envFuncNames = func() map[string]bool {
	m := map[string]bool{}
	for name := range envFuncs(inertEnv{}) {
		m[name] = true
	}
	return m
}()

// site is one Env call in the template. It may run any number of times per
// render (in a range, under an if); its arguments are read from the object
// afresh at each call.
type site struct {
	fn   string
	args []holeArg
}

// holeArg is an argument of a site's call: a literal, a path from the root,
// or `or` of such.
type holeArg struct {
	kind byte // 's' string literal, 'b' bool literal, 'p' path, 'o' or
	str  string
	b    bool
	path []string
	or   []holeArg
}

type absKind uint8

const (
	absOpaque   absKind = iota // not object data, or fixed by data marked whole
	absData                    // a value of the object
	absHole                    // a string the output shows only through Quote; its emptiness is in the key
	absHoleList                // a list of absHole; its length is in the key
)

type absVal struct {
	kind absKind
	node *readNode // absData
}

type scopedVar struct {
	name string
	val  absVal
}

// tmplReads is the analysis result.
type tmplReads struct {
	root  *readNode
	sites []site
}

type analyser struct {
	root  *readNode
	sites []site
	vars  []scopedVar
	used  map[string]bool // variables referenced anywhere
	ok    bool
}

// analyseTemplate returns nil when the template is not cacheable. It renames
// the site functions in tree, which must be a copy.
func analyseTemplate(tree *parse.Tree) *tmplReads {
	if tree == nil || tree.Root == nil {
		return nil
	}
	a := &analyser{root: &readNode{}, used: map[string]bool{}, ok: true}
	collectVarUses(tree.Root, a.used)
	root := absVal{kind: absData, node: a.root}
	a.vars = append(a.vars, scopedVar{"$", root})
	a.list(tree.Root, root)
	if !a.ok || a.root.whole || a.root.shape {
		return nil
	}
	return &tmplReads{root: a.root, sites: a.sites}
}

func (a *analyser) fail() { a.ok = false }

func (a *analyser) list(l *parse.ListNode, dot absVal) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		if !a.ok {
			return
		}
		switch n := n.(type) {
		case *parse.TextNode, *parse.CommentNode, *parse.BreakNode, *parse.ContinueNode:
		case *parse.ActionNode:
			a.action(n.Pipe, dot)
		case *parse.IfNode:
			a.branch(&n.BranchNode, dot, 'i')
		case *parse.WithNode:
			a.branch(&n.BranchNode, dot, 'w')
		case *parse.RangeNode:
			a.branch(&n.BranchNode, dot, 'r')
		default: // template invocations and anything new
			a.fail()
		}
	}
}

func (a *analyser) branch(b *parse.BranchNode, dot absVal, kind byte) {
	p := b.Pipe
	if p.IsAssign || (kind != 'r' && len(p.Decl) != 0) || len(p.Decl) > 2 {
		a.fail()
		return
	}
	v := a.pipe(&parse.PipeNode{Cmds: p.Cmds}, dot)
	inner := dot
	mark := len(a.vars)
	switch kind {
	case 'i':
		a.truth(v)
	case 'w':
		// A hole's emptiness is in the key, so `with` may test it and hand
		// it on as dot.
		a.truth(v)
		inner = v
	case 'r':
		elem := absVal{}
		switch v.kind {
		case absData:
			elem = absVal{kind: absData, node: v.node.elem()}
		case absHoleList:
			elem = absVal{kind: absHole}
		case absHole:
			a.fail()
			return
		}
		inner = elem
		switch len(p.Decl) {
		case 1:
			a.vars = append(a.vars, scopedVar{p.Decl[0].Ident[0], elem})
		case 2:
			a.vars = append(a.vars, scopedVar{p.Decl[0].Ident[0], absVal{}}, scopedVar{p.Decl[1].Ident[0], elem})
		}
	}
	a.list(b.List, inner)
	a.vars = a.vars[:mark]
	a.list(b.ElseList, dot)
	a.vars = a.vars[:mark]
}

// truth notes that v's emptiness is read. A hole's is part of its shape.
func (a *analyser) truth(v absVal) {
	if v.kind == absData {
		v.node.truth = true
	}
}

// whole notes that v's entire value is read; no hole may be read so.
func (a *analyser) whole(v absVal) {
	switch v.kind {
	case absData:
		v.node.whole = true
	case absHole, absHoleList:
		a.fail()
	}
}

func isHole(v absVal) bool { return v.kind == absHole || v.kind == absHoleList }

// action handles {{ pipeline }}, {{ $x := pipeline }} and {{ $x = pipeline }}.
func (a *analyser) action(p *parse.PipeNode, dot absVal) {
	if len(p.Decl) > 1 {
		a.fail()
		return
	}
	if p.IsAssign {
		// Reassigning a variable inside a branch makes its value depend
		// on the path taken: allowed only between values the key fixes.
		v := a.pipe(&parse.PipeNode{Cmds: p.Cmds}, dot)
		if len(p.Decl) != 1 || v.kind != absOpaque || a.lookup(p.Decl[0].Ident[0]).kind != absOpaque {
			a.fail()
		}
		return
	}
	if len(p.Decl) == 1 {
		name := p.Decl[0].Ident[0]
		if !a.used[name] && a.deadIndex(p, dot) {
			a.vars = append(a.vars, scopedVar{name, absVal{}})
			return
		}
		v := a.pipe(&parse.PipeNode{Cmds: p.Cmds}, dot)
		a.vars = append(a.vars, scopedVar{name, v})
		return
	}
	// A printed pipeline: `X | Quote` or `Quote X` with X a hole is a hole
	// print; anything else prints data in full.
	if operand, quoted := quotedOperand(p); quoted {
		v := a.pipe(&parse.PipeNode{Cmds: []*parse.CommandNode{operand}}, dot)
		if v.kind != absHole {
			a.whole(v)
		}
		return
	}
	a.whole(a.pipe(p, dot))
}

// quotedOperand splits `X | Quote` and `Quote X` (X a single command).
func quotedOperand(p *parse.PipeNode) (*parse.CommandNode, bool) {
	isQuote := func(c *parse.CommandNode) bool {
		id, ok := c.Args[0].(*parse.IdentifierNode)
		return ok && id.Ident == "Quote"
	}
	switch len(p.Cmds) {
	case 2:
		if isQuote(p.Cmds[1]) && len(p.Cmds[1].Args) == 1 {
			return p.Cmds[0], true
		}
	case 1:
		c := p.Cmds[0]
		if isQuote(c) && len(c.Args) == 2 {
			if inner, ok := c.Args[1].(*parse.PipeNode); ok && len(inner.Decl) == 0 && len(inner.Cmds) == 1 {
				return inner.Cmds[0], true
			}
			return &parse.CommandNode{Args: c.Args[1:]}, true
		}
	}
	return nil, false
}

// deadIndex handles `$unused := index X i...`: only whether the index is in
// range matters (an error otherwise), so X is read for its shape.
func (a *analyser) deadIndex(p *parse.PipeNode, dot absVal) bool {
	if len(p.Cmds) != 1 {
		return false
	}
	c := p.Cmds[0]
	if id, ok := c.Args[0].(*parse.IdentifierNode); !ok || id.Ident != "index" || len(c.Args) < 2 {
		return false
	}
	x := a.arg(c.Args[1], dot)
	switch x.kind {
	case absData:
		x.node.shape = true
	case absHole:
		a.fail()
	}
	for _, arg := range c.Args[2:] {
		a.whole(a.arg(arg, dot))
	}
	return true
}

// site registers an Env call (c, headed by id) as a site and renames its
// function. The arguments must be literals, paths from the root, or `or` of
// those: the fast path reads them from the object itself.
func (a *analyser) site(c *parse.CommandNode, id *parse.IdentifierNode, dot absVal) absVal {
	f, ok := siteFuncs[id.Ident]
	if !ok || len(c.Args)-1 != len(f.params) {
		a.fail()
		return absVal{}
	}
	s := site{fn: id.Ident}
	for _, arg := range c.Args[1:] {
		ha, ok := a.holeArg(arg, dot, true)
		if !ok {
			a.fail()
			return absVal{}
		}
		s.args = append(s.args, ha)
	}
	id.Ident = siteFuncName(len(a.sites))
	a.sites = append(a.sites, s)
	switch f.result {
	case 'h':
		return absVal{kind: absHole}
	case 'l':
		return absVal{kind: absHoleList}
	}
	return absVal{} // 'v': its value is in the key
}

func (a *analyser) holeArg(n parse.Node, dot absVal, allowOr bool) (holeArg, bool) {
	switch n := n.(type) {
	case *parse.StringNode:
		return holeArg{kind: 's', str: n.Text}, true
	case *parse.BoolNode:
		return holeArg{kind: 'b', b: n.True}, true
	case *parse.FieldNode:
		if dot.kind == absData && dot.node == a.root {
			return holeArg{kind: 'p', path: n.Ident}, true
		}
	case *parse.VariableNode:
		if v := a.lookup(n.Ident[0]); v.kind == absData && v.node == a.root {
			return holeArg{kind: 'p', path: n.Ident[1:]}, true
		}
	case *parse.PipeNode:
		if !allowOr || len(n.Decl) != 0 || len(n.Cmds) != 1 {
			break
		}
		c := n.Cmds[0]
		if id, ok := c.Args[0].(*parse.IdentifierNode); !ok || id.Ident != "or" || len(c.Args) < 2 {
			break
		}
		out := holeArg{kind: 'o'}
		for _, arg := range c.Args[1:] {
			ha, ok := a.holeArg(arg, dot, false)
			if !ok {
				return holeArg{}, false
			}
			out.or = append(out.or, ha)
		}
		return out, true
	}
	return holeArg{}, false
}

func (a *analyser) lookup(name string) absVal {
	for i := len(a.vars) - 1; i >= 0; i-- {
		if a.vars[i].name == name {
			return a.vars[i].val
		}
	}
	a.fail() // text/template rejects undefined variables at parse time
	return absVal{}
}

// pipe evaluates a pipeline abstractly.
func (a *analyser) pipe(p *parse.PipeNode, dot absVal) absVal {
	if len(p.Decl) != 0 || p.IsAssign {
		a.fail()
		return absVal{}
	}
	var v absVal
	for i, c := range p.Cmds {
		v = a.command(c, dot, i > 0, v)
	}
	return v
}

func (a *analyser) command(c *parse.CommandNode, dot absVal, piped bool, prev absVal) absVal {
	if id, ok := c.Args[0].(*parse.IdentifierNode); ok {
		if strings.HasPrefix(id.Ident, siteFuncPrefix) {
			a.fail() // visited twice: the analysis has lost track
			return absVal{}
		}
		if envFuncNames[id.Ident] {
			if piped {
				a.fail()
				return absVal{}
			}
			return a.site(c, id, dot)
		}
		args := make([]absVal, 0, len(c.Args))
		for _, arg := range c.Args[1:] {
			args = append(args, a.arg(arg, dot))
		}
		if piped {
			args = append(args, prev)
		}
		switch id.Ident {
		case "or":
			return a.or(args)
		case "index":
			// An element of a hole list, picked by a value the key fixes.
			if len(args) == 2 && args[0].kind == absHoleList && !isHole(args[1]) {
				a.whole(args[1])
				return absVal{kind: absHole}
			}
		case "len":
			if len(args) == 1 && args[0].kind == absHoleList {
				return absVal{}
			}
		}
		for _, v := range args {
			if id.Ident == "len" && v.kind == absData {
				v.node.shape = true
				continue
			}
			a.whole(v)
		}
		return absVal{}
	}
	if piped || len(c.Args) != 1 {
		a.fail() // a method call with arguments, or a non-function after |
		return absVal{}
	}
	return a.arg(c.Args[0], dot)
}

// or is text/template's or: the first non-empty argument, else the last. A
// hole may come last: the result is then either data the key holds whole or
// that hole, a choice the key and the hole's emptiness fix.
func (a *analyser) or(args []absVal) absVal {
	last := len(args) - 1
	for i, v := range args {
		if i < last || v.kind != absHole {
			a.whole(v)
		}
	}
	if last >= 0 && args[last].kind == absHole {
		return absVal{kind: absHole}
	}
	return absVal{}
}

// arg evaluates one operand.
func (a *analyser) arg(n parse.Node, dot absVal) absVal {
	switch n := n.(type) {
	case *parse.DotNode:
		return dot
	case *parse.FieldNode:
		return a.fields(dot, n.Ident)
	case *parse.VariableNode:
		return a.fields(a.lookup(n.Ident[0]), n.Ident[1:])
	case *parse.PipeNode:
		return a.pipe(n, dot)
	case *parse.IdentifierNode:
		// A function named as an operand is called without arguments.
		return a.command(&parse.CommandNode{Args: []parse.Node{n}}, dot, false, absVal{})
	case *parse.StringNode, *parse.NumberNode, *parse.BoolNode, *parse.NilNode:
		return absVal{}
	}
	a.fail() // chains and anything new
	return absVal{}
}

func (a *analyser) fields(v absVal, names []string) absVal {
	if len(names) == 0 {
		return v
	}
	switch v.kind {
	case absHole, absHoleList:
		a.fail() // a field of a hole would read its value
		return absVal{}
	case absOpaque:
		return v
	}
	n := v.node
	for _, name := range names {
		n = n.field(name)
	}
	return absVal{kind: absData, node: n}
}

// collectVarUses records every variable name referenced (not declared).
func collectVarUses(n parse.Node, used map[string]bool) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			collectVarUses(c, used)
		}
	case *parse.ActionNode:
		collectVarUses(n.Pipe, used)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			collectVarUses(c, used)
		}
	case *parse.CommandNode:
		for _, c := range n.Args {
			collectVarUses(c, used)
		}
	case *parse.VariableNode:
		used[n.Ident[0]] = true
	case *parse.ChainNode:
		collectVarUses(n.Node, used)
	case *parse.IfNode:
		collectBranch(&n.BranchNode, used)
	case *parse.RangeNode:
		collectBranch(&n.BranchNode, used)
	case *parse.WithNode:
		collectBranch(&n.BranchNode, used)
	case *parse.TemplateNode:
		collectVarUses(n.Pipe, used)
	}
}

func collectBranch(b *parse.BranchNode, used map[string]bool) {
	collectVarUses(b.Pipe, used)
	collectVarUses(b.List, used)
	collectVarUses(b.ElseList, used)
}
